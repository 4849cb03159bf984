using System.Buffers;

namespace Mtt.Tests.Support;

/// <summary>Builds a multi-segment <see cref="ReadOnlySequence{T}"/> to exercise segment boundaries.</summary>
public static class SegmentedSequence
{
    /// <summary>The bytes cut at the given ascending positions (empty segments allowed).</summary>
    public static ReadOnlySequence<byte> SplitAt(byte[] data, params int[] cuts)
    {
        var pieces = new List<byte[]>();
        int from = 0;
        foreach (int cut in cuts)
        {
            pieces.Add(data[from..cut]);
            from = cut;
        }
        pieces.Add(data[from..]);
        return Create(pieces);
    }

    /// <summary>One segment per part, in order (empty parts make empty segments).</summary>
    public static ReadOnlySequence<byte> Of(params byte[][] parts) => Create([.. parts]);

    /// <summary>The bytes in segments of <paramref name="segmentLength"/> (the last may be shorter).</summary>
    public static ReadOnlySequence<byte> Chunked(byte[] data, int segmentLength)
    {
        var pieces = new List<byte[]>();
        for (int from = 0; from < data.Length; from += segmentLength)
            pieces.Add(data[from..Math.Min(data.Length, from + segmentLength)]);
        return Create(pieces);
    }

    private static ReadOnlySequence<byte> Create(List<byte[]> pieces)
    {
        if (pieces.Count == 0) return ReadOnlySequence<byte>.Empty;
        var first = new Segment(pieces[0], 0);
        Segment last = first;
        for (int i = 1; i < pieces.Count; i++) last = last.Append(pieces[i]);
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
