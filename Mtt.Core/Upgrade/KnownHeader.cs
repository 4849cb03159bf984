namespace Mtt.Core.Upgrade;

/// <summary>The header fields the upgrade parser acts on; every other field is checked for syntax and skipped.</summary>
internal enum KnownHeader
{
    Other,
    Host,
    Upgrade,
    Connection,
    SecWebSocketKey,
    SecWebSocketVersion,
    SecWebSocketProtocol,
    XForwardedFor,
    XRealIp,
    ContentLength,
    TransferEncoding,
}
