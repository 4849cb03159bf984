namespace Mtt.Core.Http;

/// <summary>
/// The header fields that the upgrade or the controller acts on, named once by the parser so that no
/// handler compares names again; every other field is checked for syntax and skipped.
/// </summary>
internal enum KnownHeader
{
    Other,
    Host,
    ContentLength,
    TransferEncoding,
    Connection,
    Expect,
    Authorization,
    Upgrade,
    SecWebSocketKey,
    SecWebSocketVersion,
    SecWebSocketProtocol,
    XForwardedFor,
    XRealIp,
}
