using System.Buffers;
using System.IO.Pipelines;
using Mtt.Core.Transport;

namespace Mtt.Core.Mux;

/// <summary>
/// The slow path of a stream's client bytes (<see cref="SmuxStreamInput"/>): finishes a flush the session's
/// reader started and could not finish at once, then drains what queued behind it (and what arrived before
/// the backend was dialled), in order. When nothing is pending or queued, the reader writes to the backend
/// itself and this loop only waits.
/// </summary>
internal static class SmuxQueueDrain
{
    /// <summary>Queued client bytes copied to the backend per flush, so a copy never doubles a full window in memory.</summary>
    private const int MaxBytesPerBackendFlush = 64 * 1024;

    public static async Task RunAsync(SmuxStreamInput input, SmuxStream stream, SocketTransport backend, CancellationToken token)
    {
        var queue = input.Reader;
        var output = backend.Output;
        try
        {
            while (true)
            {
                // Returns on queued data, on the client's FIN, or cancelled by the reader when it left a flush pending.
                var read = await queue.ReadAsync(token).ConfigureAwait(false);
                if (input.TryTakePendingFlush(out var pending))
                {
                    // Before the queue: the queue's bytes came after the pending flush's.
                    var pendingResult = await pending.ConfigureAwait(false);
                    int released = input.PendingFlushDone(out int flushed);
                    stream.Delivered(released, flushed);
                    if (pendingResult.IsCompleted || pendingResult.IsCanceled) return;
                }
                var buffer = read.Buffer;
                if (buffer.Length > MaxBytesPerBackendFlush) buffer = buffer.Slice(0, MaxBytesPerBackendFlush);
                if (!buffer.IsEmpty)
                {
                    foreach (var segment in buffer) output.Write(segment.Span);
                    var flush = await output.FlushAsync(token).ConfigureAwait(false);
                    int delivered = (int)buffer.Length;
                    queue.AdvanceTo(buffer.End);
                    stream.Delivered(input.Delivered(delivered), delivered);
                    if (flush.IsCompleted || flush.IsCanceled) return;
                    continue;
                }
                queue.AdvanceTo(buffer.End);
                if (read.IsCompleted)
                {
                    // The client's FIN, after its last byte: the backend sees the end of its input. Not after a
                    // failed write: the downstream copy tells a reset from our own half-close.
                    if (!input.Failed) backend.ShutdownSend();
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The backend reset or went away: what the client still sends on this stream is dropped.
        }
        finally
        {
            stream.ReleaseInput();
            // The reader may have left a flush pending that this loop never took: the backend outlives it.
            await input.AwaitUntakenFlushAsync().ConfigureAwait(false);
        }
    }
}
