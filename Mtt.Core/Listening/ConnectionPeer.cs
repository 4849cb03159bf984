using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Mtt.Core.ClientAddress;
using Mtt.Core.Diagnostics;
using Mtt.Core.Upgrade;

namespace Mtt.Core.Listening;

/// <summary>
/// Who is on the other end of one accepted connection: the TCP peer, and the real client when a PROXY
/// header or a trusted proxy's forwarding headers name one. Logs show <see cref="Display"/>; the PROXY
/// header sent to the backend (<c>-send-proxy</c>) is built from <see cref="Client"/> and <see cref="Local"/>.
/// </summary>
internal sealed class ConnectionPeer
{
    private readonly ILogger _log;
    // The TCP peer (null for a Unix socket peer) and, made the first time a log line names it, as text: nothing is
    // formatted for a connection that no line mentions, which at the default level is every one that becomes a tunnel.
    private readonly IPEndPoint? _tcpPeer;
    private readonly bool _unix;
    private string? _tcpPeerText;
    // Display once a PROXY header or a trusted proxy named the client; null while it is the TCP peer.
    private string? _display;

    public ConnectionPeer(Socket socket, ILogger log)
    {
        _log = log;
        Client = Unmapped(socket.RemoteEndPoint as IPEndPoint);
        Local = Unmapped(socket.LocalEndPoint as IPEndPoint);
        _tcpPeer = Client;
        _unix = socket.AddressFamily == AddressFamily.Unix;
    }

    /// <summary>
    /// The real client: the PROXY header's source, a trusted proxy's X-Forwarded-For or X-Real-IP (port 0
    /// when it gave none), else the TCP peer; null when unknown (a Unix socket peer).
    /// </summary>
    public IPEndPoint? Client { get; private set; }

    /// <summary>Where the client connected to: the PROXY header's destination when there is one, else our socket's end.</summary>
    public IPEndPoint? Local { get; private set; }

    /// <summary>For log lines; with <c>-verbose</c>, "203.0.113.7:51234 via 127.0.0.1:40000" when a proxy named the client.</summary>
    public string Display => _display ?? TcpPeerText;

    // A Unix socket peer (-bind-unix) has no address of its own: the front proxy on this host is all we know.
    private string TcpPeerText => _tcpPeerText ??= _tcpPeer?.ToString() ?? (_unix ? "unix" : "unknown");

    public override string ToString() => Display;

    /// <summary>A PROXY header named both ends: logs and the backend's PROXY header show them from here on.</summary>
    public void SetFromProxyHeader(IPEndPoint source, IPEndPoint? destination)
    {
        Local = destination;
        SetClient(source);
    }

    /// <summary>
    /// With <c>-trusted-proxy</c>, and a peer (or PROXY header source) in its ranges, the client that
    /// X-Forwarded-For or X-Real-IP names becomes the connection's client. Both listener modes: the trust is in
    /// the peer, and a CDN that re-encrypts to a TLS origin sets the headers just as a TLS-terminating nginx does.
    /// </summary>
    public void BelieveForwardingHeaders(UpgradeRequest request, TrustedProxies? trustedProxies)
    {
        if (trustedProxies is not { } trusted || (request.XForwardedFor is null && request.XRealIp is null)) return;
        if (Client is not { } peer || !trusted.Contains(peer.Address))
        {
            ListeningLog.ForwardingHeadersIgnored(_log, Display);
            return;
        }
        if (ForwardedClient.TryResolve(request.XForwardedFor, request.XRealIp, trusted, out var client)) SetClient(client);
    }

    private void SetClient(IPEndPoint client)
    {
        Client = client;
        // Port 0: the proxy gave an address only (X-Forwarded-For usually does).
        string text = client.Port == 0 ? client.Address.ToString() : client.ToString();
        _display = _log.IsEnabled(LogLevel.Debug) ? $"{text} via {TcpPeerText}" : text;
    }

    // A dual-mode listener (-b :443) sees IPv4 clients as ::ffff:a.b.c.d; logs and PROXY headers name them as IPv4.
    private static IPEndPoint? Unmapped(IPEndPoint? endPoint) =>
        endPoint is { Address.IsIPv4MappedToIPv6: true } ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;
}
