namespace Mtt.Core.Diagnostics;

/// <summary>Why a connection got no tunnel, as the <c>reason</c> label of <c>mtt_handshakes_refused_total</c>.</summary>
public enum HandshakeRefusal
{
    /// <summary>400: a malformed head, HTTP/1.0, a bad key.</summary>
    BadRequest,

    /// <summary>404: no user for the path.</summary>
    NoUser,

    /// <summary>405: not GET.</summary>
    MethodNotAllowed,

    /// <summary>426: not a WebSocket upgrade, or another version.</summary>
    NotWebSocket,

    /// <summary>431: the head is too large.</summary>
    HeadTooLarge,

    /// <summary>Another refusal status.</summary>
    OtherStatus,

    /// <summary>TLS and the head did not arrive within the handshake timeout (label <c>timeout</c>).</summary>
    Timeout,

    /// <summary>The TLS handshake failed.</summary>
    TlsFailed,

    /// <summary>With <c>-proxy-protocol</c>: the connection did not start with a valid PROXY protocol header.</summary>
    ProxyHeader,

    /// <summary><c>-max-connections</c> connections were open: accepted and closed at once.</summary>
    MaxConnections,

    /// <summary><c>-max-pending-per-ip</c> connections of the client's address were in their handshake: closed at once.</summary>
    PendingPerAddress,

    /// <summary>Nothing arrived within the first-byte timeout.</summary>
    FirstByteTimeout,

    /// <summary>429: the user's <c>max_conns</c> tunnels were open (label <c>conns</c>).</summary>
    UserConns,

    /// <summary>429: the user's <c>max_ips</c> other addresses had tunnels open (label <c>ips</c>).</summary>
    UserIps,

    /// <summary>403: the user's <c>quota</c> is spent (label <c>quota</c>).</summary>
    UserQuota,

    /// <summary>403: the user's <c>expires</c> time has passed (label <c>expired</c>).</summary>
    UserExpired,
}
