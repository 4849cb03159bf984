using System.Buffers.Binary;

namespace Mtt.Benchmarks.Load;

/// <summary>
/// The bytes a channel sends: a random block repeated lap after lap, each lap stamped with its number in
/// its first 8 bytes. Any byte at the wrong stream position (a drop, a duplicate, a reorder, even of a
/// whole lap) differs from what was sent there, so a position-wise compare checks exactness without
/// hashing. Generating it costs nothing per byte, which keeps the client's share of the 2 cores small.
/// </summary>
internal sealed class EchoPattern
{
    // Bigger than any chunk, and not a multiple of common chunk sizes, so laps end mid-chunk.
    public const int LapSize = (1 << 20) + 4099;
    private const int Seed = 6455;

    private static readonly byte[] Block = CreateBlock();

    private readonly byte[] _lap = (byte[])Block.Clone();
    private long _position;

    public long Position => _position;

    /// <summary>The next at most <paramref name="max"/> bytes of the stream, valid until the next call.</summary>
    public ReadOnlyMemory<byte> Next(int max)
    {
        int offset = (int)(_position % LapSize);
        if (offset == 0) Stamp();
        int n = Math.Min(max, LapSize - offset);
        _position += n;
        return _lap.AsMemory(offset, n);
    }

    /// <summary>Checks that <paramref name="received"/> is the stream's next bytes; false at the first difference.</summary>
    public bool Verify(ReadOnlySpan<byte> received)
    {
        while (!received.IsEmpty)
        {
            int offset = (int)(_position % LapSize);
            if (offset == 0) Stamp();
            int n = Math.Min(received.Length, LapSize - offset);
            if (!received[..n].SequenceEqual(_lap.AsSpan(offset, n))) return false;
            _position += n;
            received = received[n..];
        }
        return true;
    }

    private void Stamp() => BinaryPrimitives.WriteInt64LittleEndian(_lap, _position / LapSize);

    private static byte[] CreateBlock()
    {
        var block = new byte[LapSize];
        new Random(Seed).NextBytes(block);
        return block;
    }
}
