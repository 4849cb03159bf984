using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Mtt.Core.Diagnostics;
using Mtt.Core.Listening;
using Mtt.Core.Routing;
using Mtt.Core.Transport;
using Mtt.Tests.Support;

namespace Mtt.Tests.Hardening;

/// <summary>
/// A real tunnel listener with one user (<see cref="AttackedServer.UserPath"/>) in front of an echo backend, with the
/// limits a test sets, and its metrics and log to look at.
/// </summary>
public sealed class LimitedServer : IAsyncDisposable
{
    private readonly EchoBackend _backend;
    private readonly StringWriter _logText = new();

    private LimitedServer(EchoBackend backend, bool tls, int maxHandshakes, int maxPendingPerAddress, bool proxyProtocol,
        TimeProvider? time, TimeSpan? handshakeTimeout, TimeSpan? firstByteTimeout, TlsEngine engine)
    {
        _backend = backend;
        Certificate = tls ? SelfSignedCertificate.Create("localhost") : null;
        var routes = new RouteStore();
        BackendAddress.TryParse(backend.Address, out var address, out _);
        routes.Update(table => table.WithAdded([new Route(AttackedServer.UserPath, address!)]));
        var options = new TunnelServerOptions
        {
            Bind = new IPEndPoint(IPAddress.Loopback, 0),
            Certificate = Certificate is null ? null : new ServerCertificate(SslStreamCertificateContext.Create(Certificate, additionalCertificates: null, offline: true)),
            TlsEngine = engine,
            MaxHandshakes = maxHandshakes,
            MaxPendingPerAddress = maxPendingPerAddress,
            RequireProxyHeader = proxyProtocol,
            Time = time ?? TimeProvider.System,
            HandshakeTimeout = handshakeTimeout ?? TimeSpan.FromSeconds(10),
            FirstByteTimeout = firstByteTimeout ?? TunnelServerOptions.DefaultFirstByteTimeout,
        };
        Listener = new TunnelListener(options, routes, new ServerLog(TextWriter.Synchronized(_logText), verbose: false), Metrics);
        Listener.Start();
    }

    public TunnelListener Listener { get; }

    public ServerMetrics Metrics { get; } = new();

    public X509Certificate2? Certificate { get; }

    public int Port => Listener.LocalEndPoint.Port;

    public string Log => _logText.ToString();

    /// <summary>What <c>GET /metrics</c> would answer now.</summary>
    public string Exposition => MetricsText.Of(Metrics);

    public static LimitedServer Start(bool tls = false, int maxHandshakes = TunnelServerOptions.DefaultMaxHandshakes,
        int maxPendingPerAddress = TunnelServerOptions.DefaultMaxPendingPerAddress, bool proxyProtocol = false,
        TimeProvider? time = null, TimeSpan? handshakeTimeout = null, TimeSpan? firstByteTimeout = null, TlsEngine engine = TlsEngine.SslStream) =>
        new(new EchoBackend(), tls, maxHandshakes, maxPendingPerAddress, proxyProtocol, time, handshakeTimeout, firstByteTimeout, engine);

    /// <summary>A client past TLS (when the server speaks it), from <paramref name="from"/> (127.0.0.1 when null).</summary>
    public Task<RawWebSocketClient> ConnectAsync(IPAddress? from = null, byte[]? preamble = null) =>
        RawWebSocketClient.ConnectAsync(Port, Certificate, preamble, from);

    /// <summary>Connects, upgrades, echoes and closes: a whole well-behaved tunnel, each step within <paramref name="bound"/>.</summary>
    public async Task AssertServesAsync(TimeSpan bound, IPAddress? from = null, byte[]? preamble = null)
    {
        await using var client = await ConnectAsync(from, preamble).WaitAsync(bound);
        var (status, head) = await client.UpgradeAsync(AttackedServer.UserPath).WaitAsync(bound);
        Assert.True(status == 101, head);
        await client.AssertEchoesThenClosesAsync("served", bound);
    }

    public async ValueTask DisposeAsync()
    {
        await Listener.DisposeAsync().AsTask().WaitAsync(AttackedServer.Bound);
        await _backend.DisposeAsync().AsTask().WaitAsync(AttackedServer.Bound);
        Certificate?.Dispose();
    }
}
