using System.Net.Sockets;
using Mtt.Core.Transport;

namespace Mtt.Tests.Support;

/// <summary>Sends the first write (the ClientHello) at once and holds every later one until released, then sends them in one.</summary>
internal sealed class HoldingStream(NetworkStream inner) : AsyncOnlyStream
{
    private readonly MemoryStream _held = new();
    private int _writes;

    public async Task ReleaseAsync()
    {
        await inner.WriteAsync(_held.ToArray());
        _held.SetLength(0);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        if (_writes++ == 0) await inner.WriteAsync(source, cancellationToken);
        else _held.Write(source.Span);
    }

    public override ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default) => inner.ReadAsync(destination, cancellationToken);

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
