using System.Net;
using Mtt.Core.ClientAddress;
using Mtt.Core.Transport;

namespace Mtt.Core.Listening;

/// <summary>
/// How the tunnel listener behaves. The daemon builds it from the command line; what only exists at start
/// (the certificate, the resolved address) is added with a <c>with</c> expression.
/// </summary>
public sealed record TunnelServerOptions
{
    /// <summary>
    /// Where to listen: an <see cref="IPEndPoint"/> (port 0 picks a free port, for tests), or a
    /// <see cref="System.Net.Sockets.UnixDomainSocketEndPoint"/> (<c>-bind-unix</c>) for a front proxy on the same host.
    /// The command line gives a <see cref="DnsEndPoint"/> for a host name; the daemon resolves it before the listener is made.
    /// </summary>
    public required EndPoint Bind { get; init; }

    /// <summary>Where every timeout of the listener and its tunnels reads the time; tests pass a fake clock to drive timeouts without waiting.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary><c>-send-proxy</c>: the PROXY protocol header every backend connection starts with, or none.</summary>
    public ProxyHeaderVersion SendProxy { get; init; }

    /// <summary><c>-fast-open</c>: TCP Fast Open on the listener (Linux, TCP only; elsewhere a warning at start).</summary>
    public bool FastOpen { get; init; }

    /// <summary>The certificate to speak TLS with (replaceable while running), or null for plain HTTP behind a TLS-terminating proxy.</summary>
    public ServerCertificate? Certificate { get; init; }

    /// <summary><c>-tls-engine</c>: what computes TLS when <see cref="Certificate"/> is set.</summary>
    public TlsEngine TlsEngine { get; init; } = TlsEngine.SslStream;

    /// <summary><c>-mux</c>: a client that offers no subprotocol is treated as multiplexed.</summary>
    public bool MuxByDefault { get; init; }

    /// <summary><c>-timeout</c>: a tunnel with no data either way for this long is closed.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// <c>-proxy-protocol</c>: every connection starts with a PROXY protocol header (v1 or v2) from an L4 proxy,
    /// read before TLS within <see cref="HandshakeTimeout"/>; its source is the client. A connection without one is closed.
    /// </summary>
    public bool RequireProxyHeader { get; init; }

    /// <summary>
    /// <c>-trusted-proxy</c>: X-Forwarded-For and X-Real-IP are believed only from a peer (the TCP peer, or the PROXY
    /// header's source) in these ranges; null believes them from nobody.
    /// </summary>
    public TrustedProxies? TrustedProxies { get; init; }

    /// <summary>The TLS handshake and the request head must both arrive within this, however slowly they drip (the original's 10 s).</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A connection that has sent nothing by then is dropped, long before <see cref="HandshakeTimeout"/>: a client
    /// sends its ClientHello (or PROXY header, or head) the moment it connects, and 5 s still covers two lost
    /// transmissions of that first segment (TCP's initial retransmission timeout is 1 s, doubling; RFC 6298 section 2).
    /// </summary>
    public TimeSpan FirstByteTimeout { get; init; } = DefaultFirstByteTimeout;

    /// <summary>The default of <see cref="FirstByteTimeout"/>.</summary>
    public static readonly TimeSpan DefaultFirstByteTimeout = TimeSpan.FromSeconds(5);

    /// <summary>A backend that has not accepted the connection by then is given up on (the original's 10 s).</summary>
    public TimeSpan DialTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>After our close frame, how long the client gets to answer with its own before the connection is dropped.</summary>
    public TimeSpan CloseHandshakeTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>smux: how often a keepalive NOP goes to the client (xtaci/smux and mtt-client use 30 s).</summary>
    public TimeSpan SmuxKeepAliveInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>smux: a session from which nothing arrived for this long is closed (the clients give up after 70 s too).</summary>
    public TimeSpan SmuxKeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(70);

    /// <summary>smux: streams open at once per session; a SYN beyond this gets a FIN straight back.</summary>
    public int SmuxMaxStreams { get; init; } = 16;

    /// <summary>
    /// Connections open at once (in their handshake or tunnelling); one beyond it is accepted and closed at
    /// once, so a flood gets a fast refusal and the kernel's queue keeps draining. See <see cref="DefaultMaxConnections"/>.
    /// </summary>
    public int MaxConnections { get; init; } = DefaultMaxConnections;

    /// <summary>
    /// TLS handshakes being computed at once: a connection holds a slot only while whole TLS records of its
    /// handshake wait to be processed, never while it waits for the peer's bytes. One beyond it waits for a slot,
    /// and its wait counts against <see cref="HandshakeTimeout"/>. See <see cref="DefaultMaxHandshakes"/>.
    /// </summary>
    public int MaxHandshakes { get; init; } = DefaultMaxHandshakes;

    /// <summary>
    /// <c>-max-pending-per-ip</c>: connections from one client address accepted and not yet tunnels (in their
    /// handshake); one more is accepted and closed at once. The address is the TCP peer's, or with
    /// <see cref="RequireProxyHeader"/> the PROXY header's source; peers in <see cref="TrustedProxies"/> are not
    /// counted. 0 turns the limit off. See <see cref="DefaultMaxPendingPerAddress"/>.
    /// </summary>
    public int MaxPendingPerAddress { get; init; } = DefaultMaxPendingPerAddress;

    /// <summary>
    /// A client opens a handful of connections at once (mtt-client one per tunnel, a browser six per host), and a
    /// carrier-grade NAT puts some dozens of users behind one address; 64 handshakes in progress at the same moment
    /// from one address is far beyond that, and 64 of 10000 connections is what one address can hold.
    /// </summary>
    public const int DefaultMaxPendingPerAddress = 64;

    /// <summary>
    /// Far above what one server's users hold (hundreds of users, a few tunnels each), far below what the
    /// process can carry: each tunnel takes two descriptors (client and backend) of the 524288 that systemd
    /// and .NET give a service, and an idle tunnel holds no buffers. A ceiling against floods, not a capacity plan.
    /// </summary>
    public const int DefaultMaxConnections = 10_000;

    /// <summary>
    /// A TLS handshake is CPU work, so a thousand at once already saturates the cores; more only let a
    /// slow-handshake flood hold more descriptors and memory. Legitimate bursts (every client reconnecting
    /// after a restart) wait their turn instead of being refused.
    /// </summary>
    public const int DefaultMaxHandshakes = 1_000;

    /// <summary>smux version 1: client bytes held for backends before the session stops reading (the clients' 256 KiB).</summary>
    public int SmuxReceiveBudget { get; init; } = 256 * 1024;
}
