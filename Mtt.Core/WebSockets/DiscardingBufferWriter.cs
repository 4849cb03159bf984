using System.Buffers;

namespace Mtt.Core.WebSockets;

/// <summary>A sink for payload nobody will read: every span it hands out is the same pooled scratch buffer.</summary>
internal sealed class DiscardingBufferWriter : IBufferWriter<byte>, IDisposable
{
    private const int ScratchSize = 16 * 1024;

    private byte[] _scratch = ArrayPool<byte>.Shared.Rent(ScratchSize);

    public void Advance(int count)
    {
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => _scratch;

    public Span<byte> GetSpan(int sizeHint = 0) => _scratch;

    public void Dispose()
    {
        var scratch = Interlocked.Exchange(ref _scratch, []);
        if (scratch.Length > 0) ArrayPool<byte>.Shared.Return(scratch);
    }
}
