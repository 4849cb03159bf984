using System.Buffers;

namespace Mtt.Benchmarks.Relay;

/// <summary>Checks echoed bytes against what was sent, wherever the relay split them.</summary>
internal static class EchoedBytes
{
    /// <summary>Throws unless <paramref name="received"/> is the next part of <paramref name="sent"/>, from <paramref name="offset"/>.</summary>
    public static void Check(ReadOnlySequence<byte> received, ReadOnlySpan<byte> sent, int offset)
    {
        if (offset + received.Length > sent.Length)
            throw new InvalidOperationException($"{offset + received.Length} bytes came back for {sent.Length} sent");
        foreach (var segment in received)
        {
            if (!segment.Span.SequenceEqual(sent.Slice(offset, segment.Length)))
                throw new InvalidOperationException($"the echo differs from what was sent, within bytes {offset}..{offset + segment.Length}");
            offset += segment.Length;
        }
    }

    /// <summary>A recognisable payload: byte i is i mod 251 (a prime, so it does not line up with the mask or any power of two).</summary>
    public static byte[] Pattern(int length)
    {
        var data = new byte[length];
        for (int i = 0; i < length; i++) data[i] = (byte)(i % 251);
        return data;
    }
}
