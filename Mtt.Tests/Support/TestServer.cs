using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Mtt.Core.ClientAddress;
using Mtt.Core.Diagnostics;
using Mtt.Core.Listening;
using Mtt.Core.Routing;
using Mtt.Core.Transport;

namespace Mtt.Tests.Support;

/// <summary>A real tunnel listener on a loopback port, with its own route table.</summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly TunnelListener _listener;

    private TestServer(TunnelListener listener, RouteStore routes, X509Certificate2? certificate, ServerCertificate? serverCertificate)
    {
        _listener = listener;
        Routes = routes;
        Certificate = certificate;
        ServerCertificate = serverCertificate;
    }

    /// <summary>What the listener presents, replaceable as a reload replaces it.</summary>
    public ServerCertificate? ServerCertificate { get; }

    public RouteStore Routes { get; }

    /// <summary>The self-signed certificate when the server speaks TLS, for clients to pin.</summary>
    public X509Certificate2? Certificate { get; }

    public int Port => _listener.LocalEndPoint.Port;

    public TunnelListener Listener => _listener;

    public Uri UriFor(string path) => new($"{(Certificate is null ? "ws" : "wss")}://127.0.0.1:{Port}{path}");

    public static TestServer Start(bool tls = false, bool mux = false, TimeSpan? idleTimeout = null, TimeSpan? handshakeTimeout = null, ServerLog? log = null,
        TimeSpan? keepAliveInterval = null, TimeSpan? keepAliveTimeout = null,
        bool proxyProtocol = false, TrustedProxies? trustedProxies = null, ServerMetrics? metrics = null, TimeSpan? closeHandshakeTimeout = null,
        TimeProvider? time = null, TlsEngine engine = TlsEngine.SslStream)
    {
        X509Certificate2? certificate = tls ? SelfSignedCertificate.Create("localhost") : null;
        var options = new TunnelServerOptions
        {
            Bind = new IPEndPoint(IPAddress.Loopback, 0),
            Certificate = certificate is null ? null : new ServerCertificate(SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true)),
            TlsEngine = engine,
            MuxByDefault = mux,
            IdleTimeout = idleTimeout ?? TimeSpan.FromMinutes(1),
            HandshakeTimeout = handshakeTimeout ?? TimeSpan.FromSeconds(10),
            SmuxKeepAliveInterval = keepAliveInterval ?? TimeSpan.FromSeconds(30),
            SmuxKeepAliveTimeout = keepAliveTimeout ?? TimeSpan.FromSeconds(70),
            CloseHandshakeTimeout = closeHandshakeTimeout ?? TimeSpan.FromSeconds(2),
            Time = time ?? TimeProvider.System,
            RequireProxyHeader = proxyProtocol,
            TrustedProxies = trustedProxies,
        };
        var routes = new RouteStore();
        var listener = new TunnelListener(options, routes, log ?? ServerLog.Silent, metrics);
        listener.Start();
        return new TestServer(listener, routes, certificate, options.Certificate);
    }

    /// <summary>A server with one user already in its table.</summary>
    /// <param name="time">Where the tunnels' timeouts read the time: a fake clock lets a test move it instead of waiting.</param>
    public static TestServer StartWithUser(string path, string dst, bool tls = false, bool mux = false, TimeSpan? idleTimeout = null,
        TimeSpan? keepAliveInterval = null, TimeSpan? keepAliveTimeout = null, TimeProvider? time = null, TlsEngine engine = TlsEngine.SslStream)
    {
        var server = Start(tls, mux, idleTimeout, keepAliveInterval: keepAliveInterval, keepAliveTimeout: keepAliveTimeout, time: time, engine: engine);
        server.AddUser(path, dst);
        return server;
    }

    public Task<SmuxTestClient> ConnectSmuxAsync(string path, byte version = 1, string? subprotocol = "smux_on", int receiveWindow = SmuxTestClient.InitialWindow) =>
        SmuxTestClient.ConnectAsync(UriFor(path), version, subprotocol, Certificate, receiveWindow);

    public void AddUser(string path, string dst)
    {
        if (!BackendAddress.TryParse(dst, out var backend, out var error)) throw new ArgumentException(error);
        Routes.Update(table => table.WithAdded([new Route(path, backend)]));
    }

    public ValueTask DisposeAsync() => _listener.DisposeAsync();
}
