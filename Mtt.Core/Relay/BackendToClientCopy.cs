using System.IO.Pipelines;
using Mtt.Core.Diagnostics;
using Mtt.Core.Limits;
using Mtt.Core.Transport;

namespace Mtt.Core.Relay;

/// <summary>
/// The one copy loop from a backend to its client, for a plain tunnel and for an smux stream alike: read the
/// backend's pipe; deliver each read in chunks the client can take now and the user's rate allows, with
/// backpressure (nothing is read from the backend until the chunk went out); tell the client how the backend
/// ended. The per-protocol part is <typeparamref name="TSink"/>, a struct, so nothing is boxed and no call
/// adds an await of its own.
/// <para>
/// Only this direction is shared. Client to backend stays a loop per protocol on purpose, because its source
/// differs: a plain tunnel decodes its own WebSocket frames straight into the backend's pipe
/// (<c>WebSocketTunnel.CopyClientToBackendAsync</c>), while an smux session's one reader writes each stream's
/// bytes to its backend itself or queues them behind a pending flush, and must give the session's budget and
/// the stream's window back as the backend takes them (<c>SmuxStreamInput</c>, <c>SmuxQueueDrain</c>). A shared
/// loop would be hooks for every step of either, and save no code.
/// </para>
/// </summary>
internal static class BackendToClientCopy
{
    /// <summary>Runs until the backend ends, the client takes no more, or <paramref name="token"/> stops it; the bytes delivered.</summary>
    public static async Task<long> RunAsync<TSink>(SocketTransport backend, TSink sink, TunnelMeter meter, TimeProvider time, CancellationToken token)
        where TSink : struct, IClientSink
    {
        var input = backend.Input;
        long delivered = 0;
        // Made the first time the user is rate limited: the backend is read only as the user's bucket allows,
        // and what the bucket does not grant yet stays in the pipe, which stops reading the backend once full.
        RatePacer? pacer = null;
        // The stop reaches the backend's read as a cancelled read (IsCanceled), not as the token's exception: that was
        // thrown again at every await between the socket and here, four throws at the end of every tunnel whose client
        // left first, and it had the pipe register on the token for every read besides.
        var stopReading = token.UnsafeRegister(static reader => ((PipeReader)reader!).CancelPendingRead(), input);
        try
        {
            while (true)
            {
                ReadResult read;
                try
                {
                    read = await input.ReadAsync().ConfigureAwait(false);
                }
                catch (Exception)
                {
                    await sink.EndAsync(BackendEnd.Failed).ConfigureAwait(false);
                    return delivered;
                }
                if (read.IsCanceled)
                {
                    input.AdvanceTo(read.Buffer.Start);
                    return delivered;
                }

                var buffer = read.Buffer;
                while (!buffer.IsEmpty)
                {
                    int length = await sink.RoomAsync(buffer.Length).ConfigureAwait(false);
                    if (length <= 0)
                    {
                        input.AdvanceTo(buffer.Start);
                        await sink.EndAsync(BackendEnd.Closed).ConfigureAwait(false);
                        return delivered;
                    }
                    if (meter.User.Limiter is { Downstream: { } bucket } limiter)
                    {
                        pacer ??= new RatePacer(limiter, time, token);
                        length = await pacer.AcquireAsync(bucket, Math.Min(length, sink.MaxPacedChunk)).ConfigureAwait(false);
                        if (length == 0)
                        {
                            input.AdvanceTo(buffer.Start);
                            return delivered;
                        }
                    }

                    bool sent;
                    Exception? error = null;
                    try
                    {
                        sent = await sink.SendAsync(buffer.Slice(0, length)).ConfigureAwait(false);
                    }
                    catch (Exception e)
                    {
                        sent = false;
                        error = e;
                    }
                    if (!sent || !sink.Sent(length))
                    {
                        if (!sent) sink.NotSent(error);
                        input.AdvanceTo(buffer.Start);
                        return delivered;
                    }
                    delivered += length;
                    buffer = buffer.Slice(length);
                }
                input.AdvanceTo(read.Buffer.End);
                sink.Drained();

                if (read.IsCompleted)
                {
                    // A reset the other loop's write met first reads here as a plain end: ask the socket.
                    await sink.EndAsync(backend.WasReset() ? BackendEnd.Reset : BackendEnd.Closed).ConfigureAwait(false);
                    return delivered;
                }
            }
        }
        finally
        {
            // Before the caller disposes the backend: once this returns, no stop can reach its reader.
            stopReading.Dispose();
            pacer?.Dispose();
        }
    }
}
