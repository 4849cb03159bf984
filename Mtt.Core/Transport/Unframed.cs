namespace Mtt.Core.Transport;

/// <summary>Data written as it is, with no header: a stream's own writes through the same gathering path.</summary>
internal readonly struct Unframed : IFrameHeaders
{
    public int MaxDataPerFrame => int.MaxValue;

    public int HeaderLength(int dataLength) => 0;

    public void WriteHeader(Span<byte> destination, int dataLength)
    {
    }
}
