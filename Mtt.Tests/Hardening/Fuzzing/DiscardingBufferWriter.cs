using System.Buffers;

namespace Mtt.Tests.Hardening.Fuzzing;

/// <summary>A payload sink that reuses one buffer and counts what was written; a size hint beyond it allocates, which the allocation bound then catches.</summary>
public sealed class DiscardingBufferWriter : IBufferWriter<byte>
{
    private byte[] _buffer = new byte[128 * 1024];

    public long Written { get; private set; }

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length);
        Written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        if (sizeHint > _buffer.Length) _buffer = new byte[sizeHint];
        return _buffer;
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
}
