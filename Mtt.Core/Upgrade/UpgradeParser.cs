using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;

namespace Mtt.Core.Upgrade;

/// <summary>
/// Parses the HTTP/1.1 request head that opens a WebSocket connection (docs/protocol.md §2). Pure:
/// bytes in, a result and a position out. Stateless, so the caller parses the whole buffer again after
/// each read; the head is bounded by <see cref="MaxHeadBytes"/>, which bounds that work too.
/// </summary>
/// <remarks>
/// As in Kestrel's HttpParser, the common case (the head in the first segment) is scanned in place.
/// A head split across segments is copied, at most <see cref="MaxHeadBytes"/> of it, into a stack
/// buffer and scanned there; nothing is ever sized by a length the peer claims.
/// </remarks>
public static class UpgradeParser
{
    /// <summary>The whole head, request line to blank line: the Go client's is about 250 bytes; 8 KiB is what common servers allow.</summary>
    public const int MaxHeadBytes = 8 * 1024;

    /// <summary>Header lines in one head: the Go client sends 6; a proxy in front adds a few.</summary>
    public const int MaxHeaderCount = 64;

    private const string HeadTooLarge = "request head too large";

    public static UpgradeParseResult Parse(in ReadOnlySequence<byte> buffer)
    {
        ReadOnlySpan<byte> first = buffer.FirstSpan;
        if (buffer.IsSingleSegment || first.Length >= MaxHeadBytes)
            return ParseLeadingBytes(first.Length > MaxHeadBytes ? first[..MaxHeadBytes] : first, buffer);

        // More segments follow, yet the first may already hold the whole head (and frames after it).
        var status = RequestHeadScanner.Scan(first, out var head, out int refusalStatus, out string? refusalReason);
        if (status != UpgradeParseStatus.Incomplete) return ToResult(status, first, head, refusalStatus, refusalReason, buffer);
        return ParseAcrossSegments(buffer);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    [SkipLocalsInit]
    private static UpgradeParseResult ParseAcrossSegments(in ReadOnlySequence<byte> buffer)
    {
        Span<byte> copy = stackalloc byte[MaxHeadBytes];
        int length = (int)Math.Min(buffer.Length, MaxHeadBytes);
        buffer.Slice(0, length).CopyTo(copy);
        return ParseLeadingBytes(copy[..length], buffer);
    }

    // bytes holds the first min(buffer.Length, MaxHeadBytes) bytes of buffer, so Incomplete is final for this buffer.
    private static UpgradeParseResult ParseLeadingBytes(ReadOnlySpan<byte> bytes, in ReadOnlySequence<byte> buffer)
    {
        var status = RequestHeadScanner.Scan(bytes, out var head, out int refusalStatus, out string? refusalReason);
        if (status == UpgradeParseStatus.Incomplete)
        {
            return buffer.Length > MaxHeadBytes
                ? UpgradeParseResult.Invalid(431, HeadTooLarge)
                : UpgradeParseResult.Incomplete(buffer.End);
        }
        return ToResult(status, bytes, head, refusalStatus, refusalReason, buffer);
    }

    private static UpgradeParseResult ToResult(UpgradeParseStatus status, ReadOnlySpan<byte> bytes, in RequestHead head, int refusalStatus, string? refusalReason, in ReadOnlySequence<byte> buffer) =>
        status == UpgradeParseStatus.Complete
            ? UpgradeParseResult.Complete(buffer.GetPosition(head.Length), CreateRequest(bytes, head))
            : UpgradeParseResult.Invalid(refusalStatus, refusalReason!);

    private static UpgradeRequest CreateRequest(ReadOnlySpan<byte> bytes, in RequestHead head)
    {
        var path = head.ImplicitRootPath ? "/" : Encoding.UTF8.GetString(bytes[head.Path]);
        // RFC 9112 3.2.2: with an absolute-form target, its authority is the host and the Host header is ignored.
        var host = FieldValue(bytes, head.IsAbsoluteForm ? head.Authority : head.Host, 1);
        var version = head.VersionCount > 0 && bytes[head.Version].SequenceEqual("13"u8) ? "13" : FieldValue(bytes, head.Version, head.VersionCount);
        var forwardedFor = head.ForwardedForCount > 1
            ? RequestHeadScanner.JoinValues(bytes, head, KnownHeader.XForwardedFor)
            : FieldValue(bytes, head.ForwardedFor, head.ForwardedForCount);

        return new UpgradeRequest(
            method: "GET", // any other method was refused with 405
            path: path,
            host: host,
            webSocketKey: FieldValue(bytes, head.Key, head.KeyCount),
            webSocketVersion: version,
            hasUpgradeWebSocket: head.UpgradeWebSocket,
            hasConnectionUpgrade: head.ConnectionUpgrade,
            offeredSubprotocol: head.OfferedSubprotocol,
            xForwardedFor: forwardedFor,
            xRealIp: FieldValue(bytes, head.RealIp, head.RealIpCount),
            hasDuplicateWebSocketHeaders: head.KeyCount > 1 || head.VersionCount > 1);
    }

    // Field values are opaque bytes (obs-text allowed, RFC 9110 5.5); Latin-1 maps each byte to one char, losing nothing.
    private static string? FieldValue(ReadOnlySpan<byte> bytes, Range range, int count) =>
        count == 0 ? null : Encoding.Latin1.GetString(bytes[range]);
}
