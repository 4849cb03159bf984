using System.Runtime.CompilerServices;
using System.Text;
using static Mtt.Core.Http.HttpSyntax;
using static Mtt.Core.Http.RequestRejectionReason;

namespace Mtt.Core.Http;

/// <summary>
/// Scans an HTTP/1.1 request head held in one span (RFC 9112 sections 2-6), line by line, and stops at
/// the first thing that makes it invalid, even before the head is complete: garbage such as a TLS
/// ClientHello is refused at its first byte instead of waiting out a timeout.
/// </summary>
/// <remarks>
/// A line ends at LF, with or without the CR before it: RFC 9112 2.2 lets a recipient accept a bare LF,
/// and Go's net/http (textproto), which the original server used for both of its ports, does. A CR
/// anywhere else is refused.
/// </remarks>
internal static class RequestHeadScanner
{
    // Content-Length beyond this many digits is far past any body limit; stop before a long overflows.
    private const int MaxContentLengthDigits = 18;

    /// <summary>
    /// Scans <paramref name="bytes"/>, which hold the start of the data. Complete fills <paramref name="head"/>;
    /// Incomplete means nothing there is wrong yet; Invalid sets <paramref name="reason"/>.
    /// </summary>
    public static HeadParseStatus Scan<THandler>(ReadOnlySpan<byte> bytes, int maxHeaderCount, ref THandler handler, out RequestHead head, out RequestRejectionReason reason)
        where THandler : struct, IRequestHeadHandler
    {
        head = default;
        head.ContentLength = RequestHead.NoContentLength;

        // RFC 9112 2.2: a server SHOULD ignore empty lines received before the request line.
        int pos = 0;
        int lf;
        while ((lf = bytes[pos..].IndexOf(Lf)) >= 0 && LineLength(bytes[pos..], lf) == 0) pos += lf + 1;
        head.Start = pos;

        if (lf < 0) return Partial(CheckPartialRequestLine(bytes[pos..]), out reason);
        reason = ScanRequestLine(bytes, pos, LineLength(bytes[pos..], lf), ref head);
        if (reason == None) reason = handler.OnRequestLine(bytes, head);
        if (reason != None) return HeadParseStatus.Invalid;
        pos += lf + 1;
        head.HeaderStart = pos;

        while (true)
        {
            var rest = bytes[pos..];
            lf = rest.IndexOf(Lf);
            if (lf < 0) return Partial(CheckPartialHeaderLine(rest), out reason);
            int lineStart = pos;
            int lineLength = LineLength(rest, lf);
            pos += lf + 1;
            if (lineLength == 0) break;
            reason = ++head.HeaderCount > maxHeaderCount ? TooManyHeaders : ScanHeaderLine(bytes, lineStart, lineLength, ref head, ref handler);
            if (reason != None) return HeadParseStatus.Invalid;
        }

        head.Length = pos;
        reason = CheckFraming(bytes, head);
        if (reason == None) reason = handler.OnHeadComplete(bytes, head);
        return reason == None ? HeadParseStatus.Complete : HeadParseStatus.Invalid;
    }

    /// <summary>Names the header, comparing without allocation and ignoring ASCII case (RFC 9110 5.1).</summary>
    public static KnownHeader Identify(ReadOnlySpan<byte> name) => name.Length switch
    {
        4 when Ascii.EqualsIgnoreCase(name, "Host"u8) => KnownHeader.Host,
        6 when Ascii.EqualsIgnoreCase(name, "Expect"u8) => KnownHeader.Expect,
        7 when Ascii.EqualsIgnoreCase(name, "Upgrade"u8) => KnownHeader.Upgrade,
        9 when Ascii.EqualsIgnoreCase(name, "X-Real-IP"u8) => KnownHeader.XRealIp,
        10 when Ascii.EqualsIgnoreCase(name, "Connection"u8) => KnownHeader.Connection,
        13 when Ascii.EqualsIgnoreCase(name, "Authorization"u8) => KnownHeader.Authorization,
        14 when Ascii.EqualsIgnoreCase(name, "Content-Length"u8) => KnownHeader.ContentLength,
        15 when Ascii.EqualsIgnoreCase(name, "X-Forwarded-For"u8) => KnownHeader.XForwardedFor,
        17 when Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Key"u8) => KnownHeader.SecWebSocketKey,
        17 when Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8) => KnownHeader.TransferEncoding,
        21 when Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Version"u8) => KnownHeader.SecWebSocketVersion,
        22 when Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Protocol"u8) => KnownHeader.SecWebSocketProtocol,
        _ => KnownHeader.Other,
    };

    /// <summary>
    /// The trimmed value of the next <paramref name="header"/> line of a completed head, from
    /// <paramref name="position"/> on (start at <see cref="RequestHead.HeaderStart"/>). For the rare
    /// repeated header; the first line's value is in the handler's range already.
    /// </summary>
    public static bool TryReadNextValue(ReadOnlySpan<byte> bytes, ref int position, KnownHeader header, out ReadOnlySpan<byte> value)
    {
        while (true)
        {
            int lf = bytes[position..].IndexOf(Lf);
            var line = bytes.Slice(position, LineLength(bytes[position..], lf));
            // Stay on the empty line that ends the head, so that a further call ends there again.
            if (line.IsEmpty) break;
            position += lf + 1;
            int colon = line.IndexOf(Colon);
            if (Identify(line[..colon]) != header) continue;
            value = TrimOws(line[(colon + 1)..]);
            return true;
        }
        value = default;
        return false;
    }

    /// <summary>The values of every <paramref name="header"/> line of a completed head, joined with ", " (RFC 9110 5.3).</summary>
    public static string JoinValues(ReadOnlySpan<byte> bytes, in RequestHead head, KnownHeader header)
    {
        var joined = new StringBuilder();
        int position = head.HeaderStart;
        while (TryReadNextValue(bytes, ref position, header, out var value))
        {
            if (joined.Length > 0) joined.Append(", ");
            joined.Append(Encoding.Latin1.GetString(value));
        }
        return joined.ToString();
    }

    // The length of the line at the start of rest that ends at its LF at index lf: without the LF or a CR before it.
    private static int LineLength(ReadOnlySpan<byte> rest, int lf) => lf > 0 && rest[lf - 1] == Cr ? lf - 1 : lf;

    // method SP request-target SP HTTP-version (RFC 9112 3). A target holds no space, so the last space ends it.
    private static RequestRejectionReason ScanRequestLine(ReadOnlySpan<byte> bytes, int start, int length, ref RequestHead head)
    {
        var line = bytes.Slice(start, length);
        int methodEnd = line.IndexOf(Space);
        int versionStart = line.LastIndexOf(Space) + 1;
        // In the order the checks of a partial line make them, so that where a read ends changes nothing.
        if (methodEnd == 0) return InvalidRequestLine;
        if ((methodEnd < 0 ? line : line[..methodEnd]).ContainsAnyExcept(TokenChars)) return InvalidMethod;
        if (methodEnd < 0 || versionStart <= methodEnd + 2) return InvalidRequestLine;
        if (line[(methodEnd + 1)..(versionStart - 1)].ContainsAny(InvalidTargetBytes)) return InvalidRequestTarget;
        if (!TryParseVersion(line[versionStart..], out head.Version)) return InvalidHttpVersion;
        head.Method = new Range(start, start + methodEnd);
        head.Target = new Range(start + methodEnd + 1, start + versionStart - 1);
        return None;
    }

    // HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 2.3), case-sensitive.
    private static bool TryParseVersion(ReadOnlySpan<byte> version, out RequestVersion parsed)
    {
        parsed = RequestVersion.Other;
        if (version.SequenceEqual("HTTP/1.1"u8)) parsed = RequestVersion.Http11;
        else if (version.SequenceEqual("HTTP/1.0"u8)) parsed = RequestVersion.Http10;
        else if (version.Length != 8 || !version.StartsWith("HTTP/"u8) || !char.IsAsciiDigit((char)version[5])
            || version[6] != (byte)'.' || !char.IsAsciiDigit((char)version[7])) return false;
        return true;
    }

    // field-line = field-name ":" OWS field-value OWS (RFC 9112 5).
    private static RequestRejectionReason ScanHeaderLine<THandler>(ReadOnlySpan<byte> bytes, int start, int length, ref RequestHead head, ref THandler handler)
        where THandler : struct, IRequestHeadHandler
    {
        var line = bytes.Slice(start, length);
        // RFC 9112 5.2: obs-fold outside message/http is refused with 400.
        if (IsOws(line[0])) return ObsoleteLineFolding;
        int colon = line.IndexOf(Colon);
        // An empty name, or whitespace before the colon (RFC 9112 5.1), fails the token check.
        var name = colon < 0 ? line : line[..colon];
        if (name.IsEmpty || name.ContainsAnyExcept(TokenChars)) return InvalidHeaderName;
        if (colon < 0) return HeaderLineWithoutColon;

        var raw = line[(colon + 1)..];
        int lead = LeadingOws(raw);
        var value = raw[lead..];
        value = value[..^TrailingOws(value)];
        if (value.ContainsAny(InvalidFieldValueBytes)) return InvalidHeaderValue;

        var header = Identify(name);
        if (header == KnownHeader.Other) return None;
        int valueStart = start + colon + 1 + lead;
        var range = new Range(valueStart, valueStart + value.Length);
        var reason = Record(header, value, range, ref head);
        return reason != None ? reason : handler.OnHeader(header, value, range, head);
    }

    // The framing facts every handler needs; the rest is the handler's to keep.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static RequestRejectionReason Record(KnownHeader header, ReadOnlySpan<byte> value, Range range, ref RequestHead head)
    {
        switch (header)
        {
            case KnownHeader.Host:
                if (head.HostCount++ == 0) head.Host = range;
                break;
            case KnownHeader.ContentLength:
                if (!TryParseContentLength(value, out long length)) return InvalidContentLength;
                if (head.HasContentLength && head.ContentLength != length) return ConflictingContentLengths;
                head.ContentLength = length;
                break;
            case KnownHeader.TransferEncoding:
                head.TransferEncodingCount++;
                head.IsChunked = Ascii.EqualsIgnoreCase(value, "chunked"u8);
                head.HasUnsupportedTransferCoding |= !head.IsChunked;
                break;
            case KnownHeader.Connection:
                while (HttpTokenList.TryTakeElement(ref value, out var option))
                {
                    head.ConnectionClose |= Ascii.EqualsIgnoreCase(option, "close"u8);
                    head.ConnectionUpgrade |= Ascii.EqualsIgnoreCase(option, "upgrade"u8);
                }
                break;
            case KnownHeader.Expect:
                head.ExpectsContinue |= Ascii.EqualsIgnoreCase(value, "100-continue"u8);
                break;
        }
        return None;
    }

    private static bool TryParseContentLength(ReadOnlySpan<byte> value, out long length)
    {
        length = 0;
        if (value.IsEmpty || value.ContainsAnyExceptInRange((byte)'0', (byte)'9')) return false;
        var significant = value.TrimStart((byte)'0');
        // A valid but absurd length is still a length: it is refused as too large, not as malformed.
        if (significant.Length > MaxContentLengthDigits) { length = long.MaxValue; return true; }
        foreach (byte digit in significant) length = length * 10 + (digit - '0');
        return true;
    }

    // RFC 9112 3.2 (exactly one Host in HTTP/1.1, a valid one; an empty value is allowed) and 6.1 (one
    // framing, which both ends agree on: two at once is how requests are smuggled).
    private static RequestRejectionReason CheckFraming(ReadOnlySpan<byte> bytes, in RequestHead head)
    {
        if (head.HasUnsupportedTransferCoding) return UnsupportedTransferCoding;
        if (head.HostCount > 1) return DuplicateHost;
        // HTTP/1.0 had no Host yet; an HTTP/1.1 request without one is refused (RFC 9112 3.2).
        if (head.HostCount == 0 && head.Version != RequestVersion.Http10) return MissingHost;
        if (head.HostCount == 1 && bytes[head.Host].ContainsAny(InvalidHostBytes)) return InvalidHost;
        if (head.TransferEncodingCount > 1) return DuplicateTransferEncoding;
        if (head.IsChunked && head.HasContentLength) return ContentLengthAndTransferEncoding;
        // HTTP/1.0 has no chunked framing (RFC 9112 6.1).
        if (head.IsChunked && head.Version == RequestVersion.Http10) return TransferEncodingInHttp10;
        return None;
    }

    // The request line has not ended yet: refuse now if its method can no longer be a token.
    private static RequestRejectionReason CheckPartialRequestLine(ReadOnlySpan<byte> partial)
    {
        partial = WithoutArrivingCr(partial);
        int space = partial.IndexOf(Space);
        if (space == 0) return InvalidRequestLine;
        return (space < 0 ? partial : partial[..space]).ContainsAnyExcept(TokenChars) ? InvalidMethod : None;
    }

    // A header line has not ended yet: refuse now if it folds or its name can no longer be a token.
    private static RequestRejectionReason CheckPartialHeaderLine(ReadOnlySpan<byte> partial)
    {
        partial = WithoutArrivingCr(partial);
        if (partial.IsEmpty) return None;
        if (IsOws(partial[0])) return ObsoleteLineFolding;
        int colon = partial.IndexOf(Colon);
        if (colon == 0 || (colon < 0 ? partial : partial[..colon]).ContainsAnyExcept(TokenChars)) return InvalidHeaderName;
        return None;
    }

    // A CR at the end of a partial line may be the start of its CRLF: judged once the line ends.
    private static ReadOnlySpan<byte> WithoutArrivingCr(ReadOnlySpan<byte> partial) =>
        partial.Length > 0 && partial[^1] == Cr ? partial[..^1] : partial;

    private static HeadParseStatus Partial(RequestRejectionReason found, out RequestRejectionReason reason)
    {
        reason = found;
        return found == None ? HeadParseStatus.Incomplete : HeadParseStatus.Invalid;
    }
}
