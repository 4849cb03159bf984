using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Mtt.Core.Transport;

/// <summary>
/// The socket as a stream, noting in its <see cref="ShutdownRecord"/> the first end the socket reports: a read's
/// end of stream or a failed read or write. Everything above it (SslStream, the pipes) turns those into their
/// own exceptions or results; this is the one place that sees them as the socket gave them. A read or write that
/// completes at once costs one comparison; one that waits resumes through a pooled state machine.
/// </summary>
internal sealed class ObservedNetworkStream(Socket socket, ShutdownRecord record) : NetworkStream(socket, ownsSocket: false)
{
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ValueTask<int> read;
        try
        {
            read = base.ReadAsync(buffer, cancellationToken);
        }
        catch (Exception e) when (record.Failed(TransportShutdownKind.ReadFailed, e))
        {
            throw;
        }
        if (!read.IsCompletedSuccessfully) return AwaitRead(read, buffer.Length);
        // A zero-byte read (waiting for data) returns 0 without meaning the end.
        if (read.Result == 0 && !buffer.IsEmpty) record.Ended(TransportShutdownKind.PeerClosed);
        return read;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> AwaitRead(ValueTask<int> read, int requested)
    {
        try
        {
            int received = await read.ConfigureAwait(false);
            if (received == 0 && requested > 0) record.Ended(TransportShutdownKind.PeerClosed);
            return received;
        }
        catch (Exception e) when (record.Failed(TransportShutdownKind.ReadFailed, e))
        {
            throw;
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ValueTask write;
        try
        {
            write = base.WriteAsync(buffer, cancellationToken);
        }
        catch (Exception e) when (record.Failed(TransportShutdownKind.WriteFailed, e))
        {
            throw;
        }
        return write.IsCompletedSuccessfully ? write : AwaitWrite(write);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AwaitWrite(ValueTask write)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        catch (Exception e) when (record.Failed(TransportShutdownKind.WriteFailed, e))
        {
            throw;
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
}
