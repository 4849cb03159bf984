using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;
using Mtt.Core.Http;
using static Mtt.Core.Http.HttpSyntax;

namespace Mtt.Core.Upgrade;

/// <summary>
/// The upgrade's rules on top of HTTP/1.1 (RFC 6455 4.1, 4.2.1): GET, HTTP/1.1, a path (or an http(s)
/// URI) as the target, no body. Keeps the offsets of the WebSocket fields and builds the
/// <see cref="UpgradeRequest"/> once the head is complete.
/// </summary>
internal struct UpgradeHeadHandler : IRequestHeadHandler
{
    private Range _path;
    private bool _implicitRootPath;
    private bool _isAbsoluteForm;
    private Range _authority;
    private Range _key;
    private int _keyCount;
    private Range _version;
    private int _versionCount;
    private Range _protocol;
    private int _protocolCount;
    private Range _forwardedFor;
    private int _forwardedForCount;
    private Range _realIp;
    private int _realIpCount;
    private bool _upgradeWebSocket;

    /// <summary>Set once the head is complete.</summary>
    public UpgradeRequest? Request { get; private set; }

    public RequestRejectionReason OnRequestLine(ReadOnlySpan<byte> bytes, in RequestHead head)
    {
        // Each scan starts from the first byte again. A range is read only when its count says it was set.
        _keyCount = _versionCount = _protocolCount = _forwardedForCount = _realIpCount = 0;
        _upgradeWebSocket = _implicitRootPath = _isAbsoluteForm = false;
        if (head.Version != RequestVersion.Http11) return RequestRejectionReason.UpgradeNotHttp11;
        // RFC 9110 9.1: methods are case-sensitive. The head is read no further: the answer is 405 whatever follows.
        if (!bytes[head.Method].SequenceEqual("GET"u8)) return RequestRejectionReason.UpgradeMethodNotGet;
        return ScanTarget(bytes, head.Target);
    }

    // Called for every known header line of every scan: kept inline in the parser's loop.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public RequestRejectionReason OnHeader(KnownHeader header, ReadOnlySpan<byte> value, Range valueRange, in RequestHead head)
    {
        switch (header)
        {
            case KnownHeader.Upgrade:
                _upgradeWebSocket |= HttpTokenList.ContainsIgnoreCase(value, "websocket"u8);
                break;
            case KnownHeader.SecWebSocketKey:
                if (_keyCount++ == 0) _key = valueRange;
                break;
            case KnownHeader.SecWebSocketVersion:
                if (_versionCount++ == 0) _version = valueRange;
                break;
            case KnownHeader.SecWebSocketProtocol:
                if (_protocolCount++ == 0) _protocol = valueRange;
                break;
            case KnownHeader.XForwardedFor:
                if (_forwardedForCount++ == 0) _forwardedFor = valueRange;
                break;
            case KnownHeader.XRealIp:
                if (_realIpCount++ == 0) _realIp = valueRange;
                break;
            // The bytes after the head are WebSocket frames; a body would be read as frames by this
            // server and as a body by a proxy in front, so an upgrade with a body is refused.
            case KnownHeader.ContentLength when head.ContentLength > 0:
            case KnownHeader.TransferEncoding:
                return RequestRejectionReason.UpgradeWithBody;
        }
        return RequestRejectionReason.None;
    }

    public RequestRejectionReason OnHeadComplete(ReadOnlySpan<byte> bytes, in RequestHead head)
    {
        var path = _implicitRootPath ? "/" : Encoding.UTF8.GetString(bytes[_path]);
        // RFC 9112 3.2.2: with an absolute-form target, its authority is the host and the Host header is ignored.
        var host = FieldValue(bytes, _isAbsoluteForm ? _authority : head.Host, 1);
        var version = _versionCount > 0 && bytes[_version].SequenceEqual("13"u8) ? "13" : FieldValue(bytes, _version, _versionCount);
        var forwardedFor = _forwardedForCount > 1
            ? RequestHeadScanner.JoinValues(bytes, head, KnownHeader.XForwardedFor)
            : FieldValue(bytes, _forwardedFor, _forwardedForCount);

        Request = new UpgradeRequest(
            method: "GET", // any other method was refused with 405
            path: path,
            host: host,
            webSocketKey: FieldValue(bytes, _key, _keyCount),
            webSocketVersion: version,
            hasUpgradeWebSocket: _upgradeWebSocket,
            hasConnectionUpgrade: head.ConnectionUpgrade,
            offeredSubprotocol: OfferedSubprotocol(bytes, head),
            xForwardedFor: forwardedFor,
            xRealIp: FieldValue(bytes, _realIp, _realIpCount),
            hasDuplicateWebSocketHeaders: _keyCount > 1 || _versionCount > 1);
        return RequestRejectionReason.None;
    }

    // origin-form "/path?query" or absolute-form "http(s)://authority/path?query" (RFC 9112 3.2.1, 3.2.2).
    private RequestRejectionReason ScanTarget(ReadOnlySpan<byte> bytes, Range targetRange)
    {
        int start = targetRange.Start.Value;
        var target = bytes[targetRange];
        // A fragment is never sent (RFC 9112 3.2); '#' in a target is a broken client or a probe.
        if (target.Contains((byte)'#')) return RequestRejectionReason.UpgradeTargetNotAPath;

        int pathStart = 0;
        if (target[0] != Slash)
        {
            int schemeLength = AbsoluteSchemeLength(target);
            if (schemeLength == 0) return RequestRejectionReason.UpgradeTargetNotAPath;
            var afterScheme = target[schemeLength..];
            int authorityLength = afterScheme.IndexOfAny(Slash, Question);
            if (authorityLength < 0) authorityLength = afterScheme.Length;
            // Userinfo in an http(s) URI is deprecated and a phishing vector (RFC 9110 4.2.4).
            if (authorityLength == 0 || afterScheme[..authorityLength].Contains((byte)'@')) return RequestRejectionReason.UpgradeTargetNotAPath;
            _isAbsoluteForm = true;
            _authority = new Range(start + schemeLength, start + schemeLength + authorityLength);
            pathStart = schemeLength + authorityLength;
            _implicitRootPath = pathStart == target.Length || target[pathStart] == Question;
        }

        int queryStart = target[pathStart..].IndexOf(Question);
        int pathEnd = queryStart < 0 ? target.Length : pathStart + queryStart;
        if (!Utf8.IsValid(target[pathStart..pathEnd])) return RequestRejectionReason.UpgradePathNotUtf8;
        _path = new Range(start + pathStart, start + pathEnd);
        return RequestRejectionReason.None;
    }

    private static int AbsoluteSchemeLength(ReadOnlySpan<byte> target)
    {
        // RFC 3986 3.1: schemes are case-insensitive.
        if (target.Length >= 7 && Ascii.EqualsIgnoreCase(target[..7], "http://"u8)) return 7;
        if (target.Length >= 8 && Ascii.EqualsIgnoreCase(target[..8], "https://"u8)) return 8;
        return 0;
    }

    // The first known subprotocol over every Sec-WebSocket-Protocol line, in the client's order.
    private readonly Subprotocol OfferedSubprotocol(ReadOnlySpan<byte> bytes, in RequestHead head)
    {
        if (_protocolCount <= 1) return _protocolCount == 0 ? Subprotocol.None : SubprotocolList.FirstKnown(bytes[_protocol]);
        int position = head.HeaderStart;
        while (RequestHeadScanner.TryReadNextValue(bytes, ref position, KnownHeader.SecWebSocketProtocol, out var list))
        {
            var offered = SubprotocolList.FirstKnown(list);
            if (offered != Subprotocol.None) return offered;
        }
        return Subprotocol.None;
    }

    // Field values are opaque bytes (obs-text allowed, RFC 9110 5.5); Latin-1 maps each byte to one char, losing nothing.
    private static string? FieldValue(ReadOnlySpan<byte> bytes, Range range, int count) =>
        count == 0 ? null : Encoding.Latin1.GetString(bytes[range]);
}
