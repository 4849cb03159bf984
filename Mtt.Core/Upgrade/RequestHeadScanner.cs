using System.Text;
using System.Text.Unicode;
using static Mtt.Core.Upgrade.HttpSyntax;

namespace Mtt.Core.Upgrade;

/// <summary>
/// Scans an HTTP/1.1 request head held in one span (RFC 9112 sections 2-5), line by line, and stops at
/// the first thing that makes it invalid, even before the head is complete: garbage such as a TLS
/// ClientHello is refused at its first byte instead of waiting out the handshake timeout.
/// </summary>
/// <remarks>
/// A line ends at LF, with or without the CR before it: RFC 9112 2.2 lets a recipient accept a bare LF,
/// and Go's net/http (textproto), which the original server used, does. A CR anywhere else is refused.
/// </remarks>
internal static class RequestHeadScanner
{
    private const string MalformedRequestLine = "malformed request line";
    private const string UnsupportedVersion = "HTTP version is not 1.1";
    private const string MethodNotGet = "method is not GET";
    private const string MalformedTarget = "malformed request target";
    private const string PathNotUtf8 = "request path is not UTF-8";
    private const string ObsFold = "obsolete line folding";
    private const string MissingColon = "header line without colon";
    private const string InvalidName = "invalid header name";
    private const string InvalidValue = "invalid header value";
    private const string TooManyHeaders = "too many header fields";
    private const string HasBody = "upgrade request with a body";
    private const string MissingHost = "missing Host";
    private const string DuplicateHost = "duplicate Host";
    private const string InvalidHost = "invalid Host";

    /// <summary>
    /// Scans <paramref name="bytes"/>, which hold the start of the connection's data. Complete fills
    /// <paramref name="head"/>; Incomplete means no refusal is possible yet from what is there.
    /// </summary>
    public static UpgradeParseStatus Scan(ReadOnlySpan<byte> bytes, out RequestHead head, out int refusalStatus, out string? refusalReason)
    {
        head = default;
        refusalStatus = 0;
        refusalReason = null;

        // RFC 9112 2.2: a server SHOULD ignore empty lines received before the request line.
        int pos = 0;
        int lf;
        while ((lf = bytes[pos..].IndexOf(Lf)) >= 0 && LineLength(bytes[pos..], lf) == 0) pos += lf + 1;

        if (lf < 0) return CheckPartialRequestLine(bytes[pos..], out refusalStatus, out refusalReason);
        if (ScanRequestLine(bytes, pos, LineLength(bytes[pos..], lf), ref head, out refusalStatus, out refusalReason) == UpgradeParseStatus.Invalid)
            return UpgradeParseStatus.Invalid;
        pos += lf + 1;
        head.HeaderStart = pos;

        int headerCount = 0;
        while (true)
        {
            var rest = bytes[pos..];
            lf = rest.IndexOf(Lf);
            if (lf < 0) return CheckPartialHeaderLine(rest, out refusalStatus, out refusalReason);
            int lineStart = pos;
            int lineLength = LineLength(rest, lf);
            pos += lf + 1;
            if (lineLength == 0) break;
            if (++headerCount > UpgradeParser.MaxHeaderCount) return Refuse(431, TooManyHeaders, out refusalStatus, out refusalReason);
            if (ScanHeaderLine(bytes, lineStart, lineLength, ref head, out refusalStatus, out refusalReason) == UpgradeParseStatus.Invalid)
                return UpgradeParseStatus.Invalid;
        }

        head.Length = pos;
        return CheckHost(bytes, head, out refusalStatus, out refusalReason);
    }

    /// <summary>Names the header, comparing without allocation and ignoring ASCII case (RFC 9110 5.1).</summary>
    public static KnownHeader Identify(ReadOnlySpan<byte> name) => name.Length switch
    {
        4 when Ascii.EqualsIgnoreCase(name, "Host"u8) => KnownHeader.Host,
        7 when Ascii.EqualsIgnoreCase(name, "Upgrade"u8) => KnownHeader.Upgrade,
        9 when Ascii.EqualsIgnoreCase(name, "X-Real-IP"u8) => KnownHeader.XRealIp,
        10 when Ascii.EqualsIgnoreCase(name, "Connection"u8) => KnownHeader.Connection,
        14 when Ascii.EqualsIgnoreCase(name, "Content-Length"u8) => KnownHeader.ContentLength,
        15 when Ascii.EqualsIgnoreCase(name, "X-Forwarded-For"u8) => KnownHeader.XForwardedFor,
        17 when Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Key"u8) => KnownHeader.SecWebSocketKey,
        17 when Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8) => KnownHeader.TransferEncoding,
        21 when Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Version"u8) => KnownHeader.SecWebSocketVersion,
        22 when Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Protocol"u8) => KnownHeader.SecWebSocketProtocol,
        _ => KnownHeader.Other,
    };

    /// <summary>
    /// The values of every line of <paramref name="header"/> in a completed head, joined with ", "
    /// (RFC 9110 5.3). Only for the rare repeated header, so it may allocate.
    /// </summary>
    public static string JoinValues(ReadOnlySpan<byte> bytes, in RequestHead head, KnownHeader header)
    {
        var joined = new StringBuilder();
        int pos = head.HeaderStart;
        while (true)
        {
            int lf = bytes[pos..].IndexOf(Lf);
            var line = bytes.Slice(pos, LineLength(bytes[pos..], lf));
            pos += lf + 1;
            if (line.IsEmpty) return joined.ToString();
            int colon = line.IndexOf(Colon);
            if (Identify(line[..colon]) != header) continue;
            if (joined.Length > 0) joined.Append(", ");
            joined.Append(Encoding.Latin1.GetString(TrimOws(line[(colon + 1)..])));
        }
    }

    // The length of the line at the start of rest that ends at its LF at index lf: without the LF or a CR before it.
    private static int LineLength(ReadOnlySpan<byte> rest, int lf) => lf > 0 && rest[lf - 1] == Cr ? lf - 1 : lf;

    // METHOD SP request-target SP HTTP/1.1 (RFC 9112 3), single spaces.
    private static UpgradeParseStatus ScanRequestLine(ReadOnlySpan<byte> bytes, int start, int length, ref RequestHead head, out int refusalStatus, out string? refusalReason)
    {
        refusalStatus = 0;
        refusalReason = null;
        var line = bytes.Slice(start, length);
        int methodEnd = line.IndexOf(Space);
        if (methodEnd <= 0 || line[..methodEnd].ContainsAnyExcept(TokenChars))
            return Refuse(400, MalformedRequestLine, out refusalStatus, out refusalReason);
        int targetStart = methodEnd + 1;
        int targetLength = line[targetStart..].IndexOf(Space);
        if (targetLength < 0) return Refuse(400, MalformedRequestLine, out refusalStatus, out refusalReason);
        if (!line[(targetStart + targetLength + 1)..].SequenceEqual("HTTP/1.1"u8))
            return Refuse(400, UnsupportedVersion, out refusalStatus, out refusalReason);
        // RFC 9110 9.1: methods are case-sensitive. The head is read no further: the answer is 405 whatever follows.
        if (!line[..methodEnd].SequenceEqual("GET"u8)) return Refuse(405, MethodNotGet, out refusalStatus, out refusalReason);
        return ScanTarget(bytes, start + targetStart, targetLength, ref head, out refusalStatus, out refusalReason);
    }

    // origin-form "/path?query" or absolute-form "http(s)://authority/path?query" (RFC 9112 3.2.1, 3.2.2).
    private static UpgradeParseStatus ScanTarget(ReadOnlySpan<byte> bytes, int start, int length, ref RequestHead head, out int refusalStatus, out string? refusalReason)
    {
        refusalStatus = 0;
        refusalReason = null;
        var target = bytes.Slice(start, length);
        if (target.IsEmpty || target.ContainsAny(InvalidTargetBytes)) return Refuse(400, MalformedTarget, out refusalStatus, out refusalReason);

        int pathStart = 0;
        if (target[0] != Slash)
        {
            int schemeLength = AbsoluteSchemeLength(target);
            if (schemeLength == 0) return Refuse(400, MalformedTarget, out refusalStatus, out refusalReason);
            var afterScheme = target[schemeLength..];
            int authorityLength = afterScheme.IndexOfAny(AuthorityEnd);
            if (authorityLength < 0) authorityLength = afterScheme.Length;
            // Userinfo in an http(s) URI is deprecated and a phishing vector (RFC 9110 4.2.4).
            if (authorityLength == 0 || afterScheme[..authorityLength].Contains((byte)'@'))
                return Refuse(400, MalformedTarget, out refusalStatus, out refusalReason);
            head.IsAbsoluteForm = true;
            head.Authority = new Range(start + schemeLength, start + schemeLength + authorityLength);
            pathStart = schemeLength + authorityLength;
            head.ImplicitRootPath = pathStart == target.Length || target[pathStart] == Question;
        }

        int queryStart = target[pathStart..].IndexOf(Question);
        int pathEnd = queryStart < 0 ? target.Length : pathStart + queryStart;
        if (!Utf8.IsValid(target[pathStart..pathEnd])) return Refuse(400, PathNotUtf8, out refusalStatus, out refusalReason);
        head.Path = new Range(start + pathStart, start + pathEnd);
        return UpgradeParseStatus.Complete;
    }

    private static int AbsoluteSchemeLength(ReadOnlySpan<byte> target)
    {
        // RFC 3986 3.1: schemes are case-insensitive.
        if (target.Length >= 7 && Ascii.EqualsIgnoreCase(target[..7], "http://"u8)) return 7;
        if (target.Length >= 8 && Ascii.EqualsIgnoreCase(target[..8], "https://"u8)) return 8;
        return 0;
    }

    // field-line = field-name ":" OWS field-value OWS (RFC 9112 5).
    private static UpgradeParseStatus ScanHeaderLine(ReadOnlySpan<byte> bytes, int start, int length, ref RequestHead head, out int refusalStatus, out string? refusalReason)
    {
        refusalStatus = 0;
        refusalReason = null;
        var line = bytes.Slice(start, length);
        // RFC 9112 5.2: obs-fold outside message/http is refused with 400.
        if (IsOws(line[0])) return Refuse(400, ObsFold, out refusalStatus, out refusalReason);
        int colon = line.IndexOf(Colon);
        if (colon < 0) return Refuse(400, MissingColon, out refusalStatus, out refusalReason);
        // An empty name, or whitespace before the colon (RFC 9112 5.1), fails the token check.
        var name = line[..colon];
        if (name.IsEmpty || name.ContainsAnyExcept(TokenChars)) return Refuse(400, InvalidName, out refusalStatus, out refusalReason);

        var raw = line[(colon + 1)..];
        int lead = LeadingOws(raw);
        var value = raw[lead..];
        value = value[..^TrailingOws(value)];
        if (value.ContainsAny(InvalidFieldValueBytes)) return Refuse(400, InvalidValue, out refusalStatus, out refusalReason);
        int valueStart = start + colon + 1 + lead;
        var range = new Range(valueStart, valueStart + value.Length);

        switch (Identify(name))
        {
            case KnownHeader.Host:
                if (head.HostCount++ == 0) head.Host = range;
                break;
            case KnownHeader.Upgrade:
                head.UpgradeWebSocket |= HttpTokenList.ContainsIgnoreCase(value, "websocket"u8);
                break;
            case KnownHeader.Connection:
                head.ConnectionUpgrade |= HttpTokenList.ContainsIgnoreCase(value, "upgrade"u8);
                break;
            case KnownHeader.SecWebSocketKey:
                if (head.KeyCount++ == 0) head.Key = range;
                break;
            case KnownHeader.SecWebSocketVersion:
                if (head.VersionCount++ == 0) head.Version = range;
                break;
            case KnownHeader.SecWebSocketProtocol:
                if (head.OfferedSubprotocol == Subprotocol.None) head.OfferedSubprotocol = HttpTokenList.FirstKnownSubprotocol(value);
                break;
            case KnownHeader.XForwardedFor:
                if (head.ForwardedForCount++ == 0) head.ForwardedFor = range;
                break;
            case KnownHeader.XRealIp:
                if (head.RealIpCount++ == 0) head.RealIp = range;
                break;
            // The bytes after the head are WebSocket frames; a body would be read as frames by this
            // server and as a body by a proxy in front, so an upgrade with a body is refused.
            case KnownHeader.ContentLength:
                if (!value.SequenceEqual("0"u8)) return Refuse(400, HasBody, out refusalStatus, out refusalReason);
                break;
            case KnownHeader.TransferEncoding:
                return Refuse(400, HasBody, out refusalStatus, out refusalReason);
        }
        return UpgradeParseStatus.Complete;
    }

    // RFC 9112 3.2: exactly one Host, with a valid value (an empty one is allowed).
    private static UpgradeParseStatus CheckHost(ReadOnlySpan<byte> bytes, in RequestHead head, out int refusalStatus, out string? refusalReason)
    {
        refusalStatus = 0;
        refusalReason = null;
        if (head.HostCount == 0) return Refuse(400, MissingHost, out refusalStatus, out refusalReason);
        if (head.HostCount > 1) return Refuse(400, DuplicateHost, out refusalStatus, out refusalReason);
        if (bytes[head.Host].IndexOfAny(" \t,/@"u8) >= 0) return Refuse(400, InvalidHost, out refusalStatus, out refusalReason);
        return UpgradeParseStatus.Complete;
    }

    // The request line has not ended yet: refuse now if its method can no longer be a token.
    private static UpgradeParseStatus CheckPartialRequestLine(ReadOnlySpan<byte> partial, out int refusalStatus, out string? refusalReason)
    {
        refusalStatus = 0;
        refusalReason = null;
        if (partial.Length == 1 && partial[0] == Cr) return UpgradeParseStatus.Incomplete; // an empty line arriving
        int space = partial.IndexOf(Space);
        var method = space < 0 ? partial : partial[..space];
        if (space == 0 || method.ContainsAnyExcept(TokenChars)) return Refuse(400, MalformedRequestLine, out refusalStatus, out refusalReason);
        return UpgradeParseStatus.Incomplete;
    }

    // A header line has not ended yet: refuse now if it folds or its name can no longer be a token.
    private static UpgradeParseStatus CheckPartialHeaderLine(ReadOnlySpan<byte> partial, out int refusalStatus, out string? refusalReason)
    {
        refusalStatus = 0;
        refusalReason = null;
        if (partial.IsEmpty || (partial.Length == 1 && partial[0] == Cr)) return UpgradeParseStatus.Incomplete;
        if (IsOws(partial[0])) return Refuse(400, ObsFold, out refusalStatus, out refusalReason);
        int colon = partial.IndexOf(Colon);
        if (colon == 0 || (colon < 0 ? partial : partial[..colon]).ContainsAnyExcept(TokenChars))
            return Refuse(400, InvalidName, out refusalStatus, out refusalReason);
        return UpgradeParseStatus.Incomplete;
    }

    private static UpgradeParseStatus Refuse(int status, string reason, out int refusalStatus, out string? refusalReason)
    {
        refusalStatus = status;
        refusalReason = reason;
        return UpgradeParseStatus.Invalid;
    }
}
