using System.Net.Sockets;

namespace Mtt.Benchmarks.Load.Soak;

/// <summary>
/// The socket under a client's SslStream, which carries out one <see cref="Sabotage"/> on the client's
/// <c>writeIndex</c>-th write (1: the ClientHello; 2: the client's Finished or key exchange; 3 and on: application
/// records) and then fails every later call, as a client that broke there would. With <c>dribble</c>, every write
/// before it goes out one byte per send (1-byte TCP segments on loopback with NODELAY), each preceded by a 0-byte send.
/// </summary>
internal sealed class SabotageStream(Socket socket, int writeIndex, Sabotage sabotage, bool dribble, Random random) : Stream
{
    private int _writes;
    private bool _broken;

    public bool Fired => _broken;

    public int WriteIndex => writeIndex;

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_broken) throw new IOException("sabotaged");
        return await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_broken) throw new IOException("sabotaged");
        if (++_writes < writeIndex)
        {
            if (!dribble)
            {
                await SendAllAsync(buffer, cancellationToken).ConfigureAwait(false);
                return;
            }
            for (int i = 0; i < buffer.Length; i++)
            {
                await socket.SendAsync(ReadOnlyMemory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                await SendAllAsync(buffer.Slice(i, 1), cancellationToken).ConfigureAwait(false);
            }
            return;
        }
        _broken = true;
        int part = buffer.Length <= 1 ? 0 : random.Next(1, buffer.Length);
        switch (sabotage)
        {
            case Sabotage.CorruptByte:
                byte[] copy = buffer.ToArray();
                copy[random.Next(copy.Length)] ^= (byte)random.Next(1, 256);
                await SendAllAsync(copy, cancellationToken).ConfigureAwait(false);
                return;
            case Sabotage.TruncateThenReset:
                await SendAllAsync(buffer[..part], cancellationToken).ConfigureAwait(false);
                Reset();
                break;
            case Sabotage.TruncateThenClose:
                await SendAllAsync(buffer[..part], cancellationToken).ConfigureAwait(false);
                socket.Shutdown(SocketShutdown.Send);
                break;
            case Sabotage.GarbageRecordFirst:
                await SendAllAsync(HostileRecords.Garbage(random), cancellationToken).ConfigureAwait(false);
                await SendAllAsync(buffer, cancellationToken).ConfigureAwait(false);
                return;
            case Sabotage.OversizeRecordFirst:
                await SendAllAsync(HostileRecords.Oversize(random), cancellationToken).ConfigureAwait(false);
                await SendAllAsync(buffer, cancellationToken).ConfigureAwait(false);
                return;
            default:
                Reset();
                break;
        }
        throw new IOException("sabotaged");
    }

    /// <summary>SO_LINGER 0: close sends RST, not FIN.</summary>
    private void Reset()
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Close();
    }

    private async ValueTask SendAllAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            int sent = await socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("async only");
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("async only");
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
