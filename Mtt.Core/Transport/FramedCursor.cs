using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Mtt.Core.Transport;

/// <summary>
/// Where a gathering write stands in its frames: hands out the next piece of plaintext (part of a frame's header, or
/// part of its data where the data lies) up to any length, so records need not align with frames. A frame's header is
/// written into the cursor's own few bytes when the frame starts; nothing else is copied. A struct held by the write's
/// state machine, so nothing is allocated per write.
/// </summary>
internal struct FramedCursor<THeaders> where THeaders : struct, IFrameHeaders
{
    private readonly THeaders _headers;
    private ReadOnlySequence<byte> _data;
    private int _frameDataLeft;
    private HeaderBytes _header;
    private int _headerStart, _headerEnd;

    public FramedCursor(ReadOnlySequence<byte> data, THeaders headers)
    {
        _data = data;
        _headers = headers;
        Remaining = TotalLength(data.Length, headers);
    }

    /// <summary>Bytes of plaintext (headers and data) not handed out yet.</summary>
    public long Remaining { get; private set; }

    /// <summary>
    /// The next piece, at most <paramref name="max"/> bytes and never empty while <see cref="Remaining"/> is above 0. Valid
    /// until the next call.
    /// </summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> Next(int max)
    {
        if (_headerEnd == _headerStart && _frameDataLeft == 0) StartFrame();
        ReadOnlySpan<byte> piece;
        if (_headerEnd > _headerStart)
        {
            piece = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<HeaderBytes, byte>(ref _header), IFrameHeaders.MaxLength)[_headerStart..Math.Min(_headerEnd, _headerStart + max)];
            _headerStart += piece.Length;
        }
        else
        {
            var first = _data.FirstSpan;
            if (first.IsEmpty) first = SkipEmptySegments();
            piece = first[..Math.Min(first.Length, Math.Min(_frameDataLeft, max))];
            _data = _data.Slice(piece.Length);
            _frameDataLeft -= piece.Length;
        }
        // Only a framing whose lengths disagree with its data gets here; fail the write rather than spin on it.
        if (piece.IsEmpty) throw new InvalidOperationException("the frames' data ended before their length");
        Remaining -= piece.Length;
        return piece;
    }

    // A sequence may hold empty segments (a pipe's, at a boundary): the data's first bytes are in the next one that is not.
    private ReadOnlySpan<byte> SkipEmptySegments()
    {
        var at = _data.Start;
        var next = at;
        while (_data.TryGet(ref next, out var memory))
        {
            if (!memory.IsEmpty)
            {
                _data = _data.Slice(at);
                return memory.Span;
            }
            at = next;
        }
        return default;
    }

    private void StartFrame()
    {
        int dataLength = (int)Math.Min(_data.Length, _headers.MaxDataPerFrame);
        _headerStart = 0;
        _headerEnd = _headers.HeaderLength(dataLength);
        _headers.WriteHeader(_header[.._headerEnd], dataLength);
        _frameDataLeft = dataLength;
    }

    // Whole frames of the most data, then one with the rest; a header's length depends only on its frame's data length.
    private static long TotalLength(long dataLength, THeaders headers)
    {
        if (dataLength == 0) return 0;
        int max = headers.MaxDataPerFrame;
        long fullFrames = dataLength / max;
        int rest = (int)(dataLength % max);
        long total = dataLength + fullFrames * headers.HeaderLength(max);
        return rest > 0 ? total + headers.HeaderLength(rest) : total;
    }

    [InlineArray(IFrameHeaders.MaxLength)]
    private struct HeaderBytes
    {
        private byte _first;
    }
}
