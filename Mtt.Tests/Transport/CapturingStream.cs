using System.Net.Sockets;
using Mtt.Core.Transport;

namespace Mtt.Tests.Transport;

/// <summary>
/// A TLS client's transport that sends its first <c>passed</c> writes (all of them until <see cref="CaptureFromNow"/>)
/// and keeps every later one, so a test can send the client's records by hand, cut where it likes.
/// </summary>
internal sealed class CapturingStream(NetworkStream inner, int passed = int.MaxValue) : AsyncOnlyStream
{
    private readonly MemoryStream _captured = new();
    private int _writes;
    private int _passed = passed;

    public void CaptureFromNow() => _passed = _writes;

    /// <summary>The bytes kept so far; the next writes are kept after them.</summary>
    public byte[] TakeCaptured()
    {
        byte[] captured = _captured.ToArray();
        _captured.SetLength(0);
        return captured;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        if (_writes++ < _passed) await inner.WriteAsync(source, cancellationToken);
        else _captured.Write(source.Span);
    }

    public override ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default) => inner.ReadAsync(destination, cancellationToken);

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
