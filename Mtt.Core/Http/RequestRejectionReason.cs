namespace Mtt.Core.Http;

/// <summary>
/// Why a request head was refused. Each reason answers with one status and logs one text
/// (<see cref="RequestRejection"/>), so a refusal reads the same in the log and on the wire.
/// </summary>
internal enum RequestRejectionReason : byte
{
    None,

    // The request line (RFC 9112 3).
    InvalidRequestLine,
    InvalidMethod,
    InvalidRequestTarget,
    InvalidHttpVersion,
    HttpVersionNotSupported,

    // Header lines (RFC 9112 5).
    ObsoleteLineFolding,
    HeaderLineWithoutColon,
    InvalidHeaderName,
    InvalidHeaderValue,

    // Host and message framing (RFC 9112 3.2 and 6).
    MissingHost,
    DuplicateHost,
    InvalidHost,
    InvalidContentLength,
    ConflictingContentLengths,
    UnsupportedTransferCoding,
    DuplicateTransferEncoding,
    ContentLengthAndTransferEncoding,
    TransferEncodingInHttp10,

    // Limits.
    HeadTooLarge,
    TooManyHeaders,

    // The WebSocket upgrade's rules (RFC 6455 4.1, 4.2.1).
    UpgradeNotHttp11,
    UpgradeMethodNotGet,
    UpgradeTargetNotAPath,
    UpgradePathNotUtf8,
    UpgradeWithBody,
}
