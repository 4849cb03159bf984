namespace Mtt.Core.Http;

/// <summary>The status and the text of each <see cref="RequestRejectionReason"/>: one place, so the two never drift apart.</summary>
internal static class RequestRejection
{
    public static int StatusCode(RequestRejectionReason reason) => reason switch
    {
        // RFC 9110 15.6.6: the version in the request line is not one this server speaks.
        RequestRejectionReason.HttpVersionNotSupported => 505,
        // RFC 9112 6.1: a transfer coding the server does not understand.
        RequestRejectionReason.UnsupportedTransferCoding => 501,
        RequestRejectionReason.HeadTooLarge or RequestRejectionReason.TooManyHeaders => 431,
        RequestRejectionReason.UpgradeMethodNotGet => 405,
        _ => 400,
    };

    /// <summary>A short constant text for the log and for the controller's <c>err_string</c>.</summary>
    public static string Text(RequestRejectionReason reason) => reason switch
    {
        RequestRejectionReason.InvalidRequestLine => "malformed request line: METHOD target HTTP-version expected",
        RequestRejectionReason.InvalidMethod => "invalid method",
        RequestRejectionReason.InvalidRequestTarget => "invalid request target",
        RequestRejectionReason.InvalidHttpVersion => "invalid HTTP version",
        RequestRejectionReason.HttpVersionNotSupported => "HTTP version not supported: use HTTP/1.1",
        RequestRejectionReason.ObsoleteLineFolding => "invalid header line: obsolete line folding",
        RequestRejectionReason.HeaderLineWithoutColon => "invalid header line: no colon",
        RequestRejectionReason.InvalidHeaderName => "invalid header line: invalid field name",
        RequestRejectionReason.InvalidHeaderValue => "invalid character in a header value",
        RequestRejectionReason.MissingHost => "missing Host header",
        RequestRejectionReason.DuplicateHost => "more than one Host header",
        RequestRejectionReason.InvalidHost => "invalid Host header",
        RequestRejectionReason.InvalidContentLength => "invalid Content-Length",
        RequestRejectionReason.ConflictingContentLengths => "conflicting Content-Length headers",
        RequestRejectionReason.UnsupportedTransferCoding => "unsupported Transfer-Encoding: only chunked is accepted",
        RequestRejectionReason.DuplicateTransferEncoding => "more than one Transfer-Encoding header",
        RequestRejectionReason.ContentLengthAndTransferEncoding => "both Content-Length and Transfer-Encoding",
        RequestRejectionReason.TransferEncodingInHttp10 => "Transfer-Encoding in an HTTP/1.0 request",
        RequestRejectionReason.HeadTooLarge => "request head too large",
        RequestRejectionReason.TooManyHeaders => "too many header fields",
        RequestRejectionReason.UpgradeNotHttp11 => "HTTP version is not 1.1",
        RequestRejectionReason.UpgradeMethodNotGet => "method is not GET",
        RequestRejectionReason.UpgradeTargetNotAPath => "malformed request target",
        RequestRejectionReason.UpgradePathNotUtf8 => "request path is not UTF-8",
        RequestRejectionReason.UpgradeWithBody => "upgrade request with a body",
        _ => "",
    };
}
