namespace Mtt.Core.Upgrade;

/// <summary>
/// Decides whether a parsed head is a valid RFC 6455 opening handshake (section 4.2.1). Called after
/// the route lookup; a path with no user is the caller's 404, decided before this.
/// </summary>
public static class UpgradeValidator
{
    /// <summary>The only version RFC 6455 defines (section 4.2.1 item 6).</summary>
    private const string SupportedVersion = "13";

    /// <summary>A key is base64 of 16 bytes (RFC 6455 4.1 item 7): 22 characters, the last carrying 4 bits, then "==".</summary>
    private const int KeyLength = 24;

    /// <summary>
    /// 0 when <paramref name="request"/> is a valid upgrade; else the status to refuse with and a short
    /// constant <paramref name="reason"/> for the log. A request that is not a WebSocket request at all
    /// (no Upgrade, wrong version) gets 426, which tells the client what to speak (RFC 6455 4.4).
    /// </summary>
    public static int Validate(UpgradeRequest request, out string? reason)
    {
        if (request.HasDuplicateWebSocketHeaders) { reason = "duplicate Sec-WebSocket-Key or -Version"; return 400; }
        if (!request.HasUpgradeWebSocket) { reason = "Upgrade lacks websocket"; return 426; }
        if (request.WebSocketVersion != SupportedVersion) { reason = "Sec-WebSocket-Version missing or not 13"; return 426; }
        if (!request.HasConnectionUpgrade) { reason = "Connection lacks upgrade"; return 400; }
        if (!IsValidKey(request.WebSocketKey)) { reason = "Sec-WebSocket-Key missing or not base64 of 16 bytes"; return 400; }
        reason = null;
        return 0;
    }

    // Checked by hand rather than with a base64 decoder, which would skip embedded whitespace.
    private static bool IsValidKey(string? key)
    {
        if (key is null || key.Length != KeyLength || key[22] != '=' || key[23] != '=') return false;
        for (int i = 0; i < 22; i++)
        {
            if (!IsBase64Char(key[i])) return false;
        }
        // Decoders (Go's and .NET's) ignore the 4 unused bits of the last character, so a key with
        // them set still decodes to 16 bytes; gorilla/websocket accepts it, and so does this.
        return true;
    }

    private static bool IsBase64Char(char c) =>
        c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '+' or '/';
}
