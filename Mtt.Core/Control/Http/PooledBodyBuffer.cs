using System.Buffers;

namespace Mtt.Core.Control.Http;

/// <summary>
/// A request body gathered from the pool as it arrives: it grows (doubling) only as bytes come, never past
/// its capacity, so a claimed length costs nothing until the bytes are really sent.
/// </summary>
internal sealed class PooledBodyBuffer(int maxCapacity) : IBufferWriter<byte>, IDisposable
{
    // The first rent: a typical command fits, and a 2 MiB body reaches its size in about eight doublings.
    private const int InitialCapacity = 16 * 1024;

    private byte[] _array = [];
    private int _written;

    public int WrittenCount => _written;

    public ReadOnlySpan<byte> WrittenSpan => _array.AsSpan(0, _written);

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > _array.Length - _written) throw new InvalidOperationException("advanced past the buffer");
        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => Reserve(sizeHint).AsMemory(_written);

    public Span<byte> GetSpan(int sizeHint = 0) => Reserve(sizeHint).AsSpan(_written);

    public void Dispose()
    {
        if (_array.Length > 0) ArrayPool<byte>.Shared.Return(_array);
        _array = [];
        _written = 0;
    }

    private byte[] Reserve(int sizeHint)
    {
        int needed = _written + Math.Max(sizeHint, 1);
        if (needed <= _array.Length) return _array;
        if (needed > maxCapacity) throw new InvalidOperationException($"body buffer would exceed {maxCapacity} bytes");

        int capacity = Math.Min(Math.Max(needed, Math.Max(_array.Length * 2, InitialCapacity)), maxCapacity);
        byte[] next = ArrayPool<byte>.Shared.Rent(capacity);
        _array.AsSpan(0, _written).CopyTo(next);
        if (_array.Length > 0) ArrayPool<byte>.Shared.Return(_array);
        _array = next;
        return next;
    }
}
