using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Mtt.Core.Diagnostics;
using Mtt.Core.Listening;
using Mtt.Core.Routing;

namespace Mtt.Tests.Support;

/// <summary>A real tunnel listener on loopback with the smux options a test chooses, and one user.</summary>
public sealed class MuxTestServer : IAsyncDisposable
{
    private readonly TunnelListener _listener;

    private MuxTestServer(TunnelListener listener, X509Certificate2? certificate)
    {
        _listener = listener;
        Certificate = certificate;
    }

    public X509Certificate2? Certificate { get; }

    public TunnelListener Listener => _listener;

    public Uri UriFor(string path) => new($"{(Certificate is null ? "ws" : "wss")}://127.0.0.1:{_listener.LocalEndPoint.Port}{path}");

    public static MuxTestServer Start(string path, string backend, bool tls = false, bool mux = false,
        TimeSpan? keepAliveInterval = null, TimeSpan? keepAliveTimeout = null, TimeSpan? idleTimeout = null, ServerLog? log = null)
    {
        X509Certificate2? certificate = tls ? SelfSignedCertificate.Create("localhost") : null;
        var options = new TunnelServerOptions
        {
            Bind = new IPEndPoint(IPAddress.Loopback, 0),
            Certificate = certificate is null ? null : SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true),
            MuxByDefault = mux,
            IdleTimeout = idleTimeout ?? TimeSpan.FromMinutes(1),
            SmuxKeepAliveInterval = keepAliveInterval ?? TimeSpan.FromSeconds(30),
            SmuxKeepAliveTimeout = keepAliveTimeout ?? TimeSpan.FromSeconds(70),
        };
        if (!BackendAddress.TryParse(backend, out var address, out var error)) throw new ArgumentException(error);
        var routes = new RouteStore();
        routes.Update(table => table.WithAdded([new Route(path, address)]));
        var listener = new TunnelListener(options, routes, log ?? ServerLog.Silent);
        listener.Start();
        return new MuxTestServer(listener, certificate);
    }

    public Task<SmuxTestClient> ConnectAsync(string path, byte version = 1, string? subprotocol = "smux_on", int receiveWindow = SmuxTestClient.InitialWindow) =>
        SmuxTestClient.ConnectAsync(UriFor(path), version, subprotocol, Certificate, receiveWindow);

    public ValueTask DisposeAsync() => _listener.DisposeAsync();
}
