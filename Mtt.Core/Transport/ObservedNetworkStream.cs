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
        return Observe(read, buffer.Length, record);
    }

    /// <summary>
    /// The socket's read as the caller gets it, its end noted in <paramref name="record"/>; <paramref name="read"/> is
    /// consumed exactly once. A read that completed on another thread just after it was issued is backed by the
    /// socket's reusable awaitable, which its first GetResult releases for the next operation: taking the result
    /// and then handing on the same ValueTask made the caller's await fail with an InvalidOperationException (or
    /// see the next read's result), which cut healthy tunnels under load. The caller gets a fresh one.
    /// </summary>
    internal static ValueTask<int> Observe(ValueTask<int> read, int requested, ShutdownRecord record)
    {
        if (!read.IsCompletedSuccessfully) return AwaitRead(read, requested, record);
        int received = read.Result;
        // A zero-byte read (waiting for data) returns 0 without meaning the end.
        if (received == 0 && requested > 0) record.Ended(TransportShutdownKind.PeerClosed);
        return new ValueTask<int>(received);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<int> AwaitRead(ValueTask<int> read, int requested, ShutdownRecord record)
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
