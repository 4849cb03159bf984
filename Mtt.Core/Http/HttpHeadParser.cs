using System.Buffers;
using System.Runtime.CompilerServices;

namespace Mtt.Core.Http;

/// <summary>
/// The one HTTP/1.1 request head parser, for the tunnel's upgrade and for the controller. Pure: bytes in,
/// a status, a reason and the positions to advance to out; no I/O, no logging. What each caller adds
/// (its rules, what it keeps) comes through a struct <see cref="IRequestHeadHandler"/>.
/// </summary>
/// <remarks>
/// Stateless, so the caller parses the whole buffer again after each read; the head is bounded by the
/// caller's limit, which bounds that work too. As in Kestrel's HttpParser, the common case (the head in
/// the first segment) is scanned in place. A head split across segments is copied, at most the limit
/// of it, and scanned there; nothing is ever sized by a length the peer claims.
/// </remarks>
internal static class HttpHeadParser
{
    // Copies up to this size go on the stack; a larger limit (the controller's may be set higher) rents.
    private const int StackCopyBytes = 8 * 1024;

    public static HeadParseResult Parse<THandler>(in ReadOnlySequence<byte> buffer, int maxHeadBytes, int maxHeaderCount, ref THandler handler)
        where THandler : struct, IRequestHeadHandler
    {
        ReadOnlySpan<byte> first = buffer.FirstSpan;
        if (buffer.IsSingleSegment || first.Length >= maxHeadBytes)
            return ParseLeadingBytes(first.Length > maxHeadBytes ? first[..maxHeadBytes] : first, buffer, maxHeadBytes, maxHeaderCount, ref handler);

        // More segments follow, yet the first may already hold the whole head (and the bytes after it).
        var status = RequestHeadScanner.Scan(first, maxHeaderCount, ref handler, out var head, out var reason);
        if (status != HeadParseStatus.Incomplete) return ToResult(status, reason, head, buffer);
        return ParseAcrossSegments(buffer, maxHeadBytes, maxHeaderCount, ref handler);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    [SkipLocalsInit]
    private static HeadParseResult ParseAcrossSegments<THandler>(in ReadOnlySequence<byte> buffer, int maxHeadBytes, int maxHeaderCount, ref THandler handler)
        where THandler : struct, IRequestHeadHandler
    {
        int length = (int)Math.Min(buffer.Length, maxHeadBytes);
        byte[]? rented = null;
        Span<byte> copy = length <= StackCopyBytes ? stackalloc byte[StackCopyBytes] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            buffer.Slice(0, length).CopyTo(copy);
            return ParseLeadingBytes(copy[..length], buffer, maxHeadBytes, maxHeaderCount, ref handler);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    // bytes holds the first min(buffer.Length, maxHeadBytes) bytes of buffer, so Incomplete is final for this buffer.
    private static HeadParseResult ParseLeadingBytes<THandler>(ReadOnlySpan<byte> bytes, in ReadOnlySequence<byte> buffer, int maxHeadBytes, int maxHeaderCount, ref THandler handler)
        where THandler : struct, IRequestHeadHandler
    {
        var status = RequestHeadScanner.Scan(bytes, maxHeaderCount, ref handler, out var head, out var reason);
        if (status == HeadParseStatus.Incomplete && buffer.Length > maxHeadBytes)
            return new HeadParseResult(HeadParseStatus.Invalid, RequestRejectionReason.HeadTooLarge, buffer.Start, buffer.End);
        return ToResult(status, reason, head, buffer);
    }

    private static HeadParseResult ToResult(HeadParseStatus status, RequestRejectionReason reason, in RequestHead head, in ReadOnlySequence<byte> buffer)
    {
        switch (status)
        {
            case HeadParseStatus.Complete:
                var end = buffer.GetPosition(head.Length);
                return new HeadParseResult(status, reason, end, end);
            case HeadParseStatus.Incomplete:
                return new HeadParseResult(status, reason, head.Start == 0 ? buffer.Start : buffer.GetPosition(head.Start), buffer.End);
            default:
                return new HeadParseResult(status, reason, buffer.Start, buffer.End);
        }
    }
}
