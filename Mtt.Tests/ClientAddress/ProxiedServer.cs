using System.Text;
using Mtt.Core.ClientAddress;
using Mtt.Core.Diagnostics;
using Mtt.Tests.Support;

namespace Mtt.Tests.ClientAddress;

/// <summary>A tunnel listener behind a (simulated) proxy: one user "/u" on an echo backend, a verbose log kept for assertions, and its metrics.</summary>
public sealed class ProxiedServer : IAsyncDisposable
{
    public const string UserPath = "/u";
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly StringWriter _logText = new();
    private readonly TextWriter _logWriter;
    private readonly EchoBackend _backend = new();

    private ProxiedServer(bool tls, bool proxyProtocol, string? trustedProxies, TimeSpan? handshakeTimeout)
    {
        _logWriter = TextWriter.Synchronized(_logText);
        TrustedProxies? trusted = null;
        if (trustedProxies is not null) Assert.True(TrustedProxies.TryParse(trustedProxies, out trusted, out string error), error);
        Server = TestServer.Start(tls: tls, handshakeTimeout: handshakeTimeout, log: new ServerLog(_logWriter, verbose: true),
            proxyProtocol: proxyProtocol, trustedProxies: trusted, metrics: Metrics);
        Server.AddUser(UserPath, _backend.Address);
    }

    public TestServer Server { get; }

    public ServerMetrics Metrics { get; } = new();

    public string LogText
    {
        get { lock (_logWriter) return _logText.ToString(); }
    }

    public static ProxiedServer Start(bool tls = false, bool proxyProtocol = true, string? trustedProxies = null, TimeSpan? handshakeTimeout = null) =>
        new(tls, proxyProtocol, trustedProxies, handshakeTimeout);

    /// <summary>A client that sends <paramref name="preamble"/> first, then speaks TLS when the server does.</summary>
    public Task<RawWebSocketClient> ConnectAsync(byte[]? preamble = null) =>
        RawWebSocketClient.ConnectAsync(Server.Port, Server.Certificate, preamble).WaitAsync(Bound);

    /// <summary>The Go client's head for the user, with extra header lines (each ending in CRLF).</summary>
    public static string Head(string extraHeaders = "") => RawWebSocketClient.GoClientHead(UserPath).Replace("\r\n\r\n", "\r\n" + extraHeaders + "\r\n");

    /// <summary>Upgrades with <paramref name="head"/>, echoes a message through the backend and closes cleanly.</summary>
    public static async Task AssertTunnelAsync(RawWebSocketClient client, string head)
    {
        await client.SendRawAsync(head).WaitAsync(Bound);
        var (status, response) = await client.ReadResponseHeadAsync().WaitAsync(Bound);
        Assert.True(status == 101, response);
        await client.AssertEchoesThenClosesAsync("from behind the proxy", Bound);
    }

    /// <summary>Every connection has ended, so has logged and counted its end.</summary>
    public Task AllConnectionsEndedAsync() => Server.Listener.WhenNoConnections().WaitAsync(Bound);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync().AsTask().WaitAsync(Bound);
        await _backend.DisposeAsync().AsTask().WaitAsync(Bound);
    }
}
