namespace Mtt.Core.Upgrade;

/// <summary>
/// The parts of a WebSocket upgrade request head that the server acts on. One per connection,
/// created only once a head has completed; headers not listed here are never turned into strings.
/// </summary>
public sealed class UpgradeRequest
{
    internal UpgradeRequest(
        string method,
        string path,
        string? host,
        string? webSocketKey,
        string? webSocketVersion,
        bool hasUpgradeWebSocket,
        bool hasConnectionUpgrade,
        Subprotocol offeredSubprotocol,
        string? xForwardedFor,
        string? xRealIp,
        bool hasDuplicateWebSocketHeaders)
    {
        Method = method;
        Path = path;
        Host = host;
        WebSocketKey = webSocketKey;
        WebSocketVersion = webSocketVersion;
        HasUpgradeWebSocket = hasUpgradeWebSocket;
        HasConnectionUpgrade = hasConnectionUpgrade;
        OfferedSubprotocol = offeredSubprotocol;
        XForwardedFor = xForwardedFor;
        XRealIp = xRealIp;
        HasDuplicateWebSocketHeaders = hasDuplicateWebSocketHeaders;
    }

    /// <summary>The method as sent; always <c>GET</c> for a completed head, since other methods are refused with 405.</summary>
    public string Method { get; }

    /// <summary>The request target's path without the query, exactly as sent (no percent-decoding), UTF-8 decoded.</summary>
    public string Path { get; }

    /// <summary>The Host header (trimmed), or the authority of an absolute-form target, which RFC 9112 3.2.2 says wins.</summary>
    public string? Host { get; }

    /// <summary>The first Sec-WebSocket-Key value, trimmed, not yet checked (see <see cref="UpgradeValidator"/>).</summary>
    public string? WebSocketKey { get; }

    /// <summary>The first Sec-WebSocket-Version value, trimmed.</summary>
    public string? WebSocketVersion { get; }

    /// <summary>An Upgrade header's token list holds <c>websocket</c> (case-insensitive).</summary>
    public bool HasUpgradeWebSocket { get; }

    /// <summary>A Connection header's token list holds <c>upgrade</c> (case-insensitive), e.g. <c>keep-alive, Upgrade</c>.</summary>
    public bool HasConnectionUpgrade { get; }

    /// <summary>The first of <c>smux_on</c> / <c>smux_off</c> in the Sec-WebSocket-Protocol lists, in the client's order.</summary>
    public Subprotocol OfferedSubprotocol { get; }

    /// <summary>X-Forwarded-For as sent; repeated lines are joined with ", " (RFC 9110 5.3). Not trusted here.</summary>
    public string? XForwardedFor { get; }

    /// <summary>The first X-Real-IP value as sent. Not trusted here.</summary>
    public string? XRealIp { get; }

    /// <summary>Sec-WebSocket-Key or Sec-WebSocket-Version came on more than one header line.</summary>
    public bool HasDuplicateWebSocketHeaders { get; }
}
