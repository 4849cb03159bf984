namespace Mtt.Core.WebSockets;

/// <summary>Close status codes this server sends or checks (RFC 6455 section 7.4.1).</summary>
public static class WebSocketCloseCodes
{
    public const ushort NormalClosure = 1000;
    public const ushort GoingAway = 1001;
    public const ushort ProtocolError = 1002;
    public const ushort UnsupportedData = 1003;
    public const ushort NoStatusReceived = 1005;
    public const ushort InvalidPayloadData = 1007;
    public const ushort PolicyViolation = 1008;
    public const ushort MessageTooBig = 1009;
    public const ushort InternalError = 1011;

    /// <summary>
    /// Whether a peer may send <paramref name="code"/> in a close frame (RFC 6455 section 7.4.1-7.4.2):
    /// the codes defined in 1000-2999 (1012-1014 are registered with IANA since the RFC), and the
    /// 3000-4999 ranges for libraries and applications. 1004, 1005, 1006 and 1015 must never be sent.
    /// </summary>
    internal static bool IsValidReceived(ushort code) => code switch
    {
        >= 1000 and <= 1003 => true,
        >= 1007 and <= 1014 => true,
        >= 3000 and <= 4999 => true,
        _ => false,
    };
}
