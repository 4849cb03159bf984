using System.Buffers;
using System.Text;

namespace Mtt.Core.Control;

/// <summary>
/// Parses a controller request head (RFC 9112 sections 3 and 5): the request line and the header fields,
/// up to but not including the empty line. Pure: bytes in, a head or a refusal out. Any request target is
/// accepted, as the original server did.
/// </summary>
internal static class RequestHeadParser
{
    // Content-Length beyond this many digits is far past any body limit; stop before long overflows.
    private const int MaxContentLengthDigits = 18;

    // RFC 9110 section 5.6.2: tchar.
    private static readonly SearchValues<byte> TokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    /// <param name="head">The bytes before the empty line that ends the head; lines end in CRLF or a bare LF (RFC 9112 section 2.2).</param>
    public static bool TryParse(ReadOnlySpan<byte> head, out RequestHead result, out HttpRejection rejection)
    {
        result = default;
        ReadOnlySpan<byte> fields = head;
        ReadOnlySpan<byte> requestLine = TakeLine(ref fields);

        if (!TryParseRequestLine(requestLine, out string method, out string target, out bool isHttp11, out rejection)) return false;

        long contentLength = RequestHead.NoContentLength;
        int hostCount = 0, transferEncodingCount = 0, authorizationCount = 0;
        string? authorization = null;
        bool chunked = false, expectsContinue = false, close = false;
        while (!fields.IsEmpty)
        {
            ReadOnlySpan<byte> line = TakeLine(ref fields);

            if (!TrySplitField(line, out var name, out var value, out rejection)) return false;

            if (Ascii.EqualsIgnoreCase(name, "Host"u8))
            {
                hostCount++;
            }
            else if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                if (!TryParseContentLength(value, out long length))
                    return Reject(HttpRejection.BadRequest("invalid Content-Length"), out rejection);
                if (contentLength != RequestHead.NoContentLength && contentLength != length)
                    return Reject(HttpRejection.BadRequest("conflicting Content-Length headers"), out rejection);
                contentLength = length;
            }
            else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
            {
                transferEncodingCount++;
                chunked = Ascii.EqualsIgnoreCase(value, "chunked"u8);
                // RFC 9112 section 6.1: a transfer coding the server does not understand gets 501.
                if (!chunked) return Reject(new HttpRejection(501, "unsupported Transfer-Encoding: only chunked is accepted"), out rejection);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
            {
                close |= HasToken(value, "close"u8);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Authorization"u8))
            {
                authorizationCount++;
                authorization = Encoding.Latin1.GetString(value);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Expect"u8))
            {
                // RFC 9110 section 10.1.1; other expectations are ignored, which that section allows.
                expectsContinue |= Ascii.EqualsIgnoreCase(value, "100-continue"u8);
            }
        }

        // RFC 9112 section 3.2: an HTTP/1.1 request without exactly one Host is a 400.
        if (isHttp11 && hostCount != 1)
            return Reject(HttpRejection.BadRequest(hostCount == 0 ? "missing Host header" : "more than one Host header"), out rejection);
        if (transferEncodingCount > 1)
            return Reject(HttpRejection.BadRequest("more than one Transfer-Encoding header"), out rejection);
        // RFC 9112 section 6.1: both framings at once is how requests are smuggled.
        if (chunked && contentLength != RequestHead.NoContentLength)
            return Reject(HttpRejection.BadRequest("both Content-Length and Transfer-Encoding"), out rejection);
        // RFC 9112 section 6.1: HTTP/1.0 has no chunked framing.
        if (chunked && !isHttp11)
            return Reject(HttpRejection.BadRequest("Transfer-Encoding in an HTTP/1.0 request"), out rejection);

        // HTTP/1.0 connections are closed after one exchange; keep-alive is an HTTP/1.1 default (RFC 9112 section 9.3).
        result = new RequestHead(method, contentLength, chunked, expectsContinue && isHttp11, KeepAlive: isHttp11 && !close)
        {
            Target = target,
            Authorization = authorizationCount == 1 ? authorization : null,
        };
        rejection = default;
        return true;
    }

    // The first line of text, without its LF or a CR before it; a CR elsewhere stays and is refused as content.
    private static ReadOnlySpan<byte> TakeLine(ref ReadOnlySpan<byte> text)
    {
        int lf = text.IndexOf((byte)'\n');
        ReadOnlySpan<byte> line = lf < 0 ? text : text[..lf];
        text = lf < 0 ? [] : text[(lf + 1)..];
        return line.EndsWith((byte)'\r') ? line[..^1] : line;
    }

    // RFC 9112 section 3: method SP request-target SP HTTP-version.
    private static bool TryParseRequestLine(ReadOnlySpan<byte> line, out string method, out string targetText, out bool isHttp11, out HttpRejection rejection)
    {
        method = "";
        targetText = "";
        isHttp11 = false;
        int firstSpace = line.IndexOf((byte)' ');
        int lastSpace = line.LastIndexOf((byte)' ');
        if (firstSpace <= 0 || lastSpace <= firstSpace + 1)
            return Reject(HttpRejection.BadRequest("request line must be METHOD target HTTP-version"), out rejection);

        ReadOnlySpan<byte> methodBytes = line[..firstSpace];
        ReadOnlySpan<byte> target = line[(firstSpace + 1)..lastSpace];
        ReadOnlySpan<byte> version = line[(lastSpace + 1)..];
        if (methodBytes.ContainsAnyExcept(TokenChars))
            return Reject(HttpRejection.BadRequest("invalid method"), out rejection);
        if (target.IndexOfAnyInRange((byte)0, (byte)' ') >= 0 || target.Contains((byte)0x7F))
            return Reject(HttpRejection.BadRequest("invalid request target"), out rejection);

        if (version.SequenceEqual("HTTP/1.1"u8)) isHttp11 = true;
        else if (!version.SequenceEqual("HTTP/1.0"u8))
        {
            bool wellFormed = version.Length == 8 && version.StartsWith("HTTP/"u8) && char.IsAsciiDigit((char)version[5])
                && version[6] == (byte)'.' && char.IsAsciiDigit((char)version[7]);
            return Reject(wellFormed ? new HttpRejection(505, "HTTP version not supported: use HTTP/1.1")
                : HttpRejection.BadRequest("invalid HTTP version"), out rejection);
        }

        method = Encoding.ASCII.GetString(methodBytes);
        targetText = Encoding.ASCII.GetString(target);
        rejection = default;
        return true;
    }

    // RFC 9112 section 5: field-name ":" OWS field-value OWS; no whitespace before the colon, no obs-fold.
    private static bool TrySplitField(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value, out HttpRejection rejection)
    {
        value = default;
        int colon = line.IndexOf((byte)':');
        name = colon < 0 ? line : line[..colon];
        if (colon <= 0 || name.ContainsAnyExcept(TokenChars))
            return Reject(HttpRejection.BadRequest("invalid header line"), out rejection);

        value = line[(colon + 1)..].Trim(" \t"u8);
        foreach (byte b in value)
        {
            // Control characters other than HTAB (a bare CR or LF among them) are not field content (RFC 9110 section 5.5).
            if ((b < 0x20 && b != (byte)'\t') || b == 0x7F)
                return Reject(HttpRejection.BadRequest("invalid character in a header value"), out rejection);
        }
        rejection = default;
        return true;
    }

    private static bool TryParseContentLength(ReadOnlySpan<byte> value, out long length)
    {
        length = 0;
        if (value.IsEmpty || value.ContainsAnyExceptInRange((byte)'0', (byte)'9')) return false;
        ReadOnlySpan<byte> significant = value.TrimStart((byte)'0');
        // A valid but absurd length is still a length: it is refused as too large, not as malformed.
        if (significant.Length > MaxContentLengthDigits) { length = long.MaxValue; return true; }
        foreach (byte digit in significant) length = length * 10 + (digit - '0');
        return true;
    }

    // A comma-separated token list (RFC 9110 section 5.6.1), compared case-insensitively.
    private static bool HasToken(ReadOnlySpan<byte> list, ReadOnlySpan<byte> token)
    {
        foreach (Range part in list.Split((byte)','))
        {
            if (Ascii.EqualsIgnoreCase(list[part].Trim(" \t"u8), token)) return true;
        }
        return false;
    }

    private static bool Reject(HttpRejection reason, out HttpRejection rejection)
    {
        rejection = reason;
        return false;
    }
}
