using System.Net;

namespace Mtt.Core.Listening;

/// <summary>How the tunnel listener behaves; the daemon fills it from the command line.</summary>
public sealed class TunnelServerOptions
{
    /// <summary>Where to listen; port 0 picks a free port (tests).</summary>
    public required IPEndPoint Bind { get; init; }

    /// <summary>The certificate to speak TLS with (replaceable while running), or null for plain HTTP behind a TLS-terminating proxy.</summary>
    public ServerCertificate? Certificate { get; init; }

    /// <summary><c>-mux</c>: a client that offers no subprotocol is treated as multiplexed.</summary>
    public bool MuxByDefault { get; init; }

    /// <summary><c>-timeout</c>: a tunnel with no data either way for this long is closed.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The TLS handshake and the request head must both arrive within this, however slowly they drip (the original's 10 s).</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

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

    /// <summary>smux version 1: client bytes held for backends before the session stops reading (the clients' 256 KiB).</summary>
    public int SmuxReceiveBudget { get; init; } = 256 * 1024;
}
