using System.Buffers;
using System.IO.Pipelines;

namespace Mtt.Core.Mux;

/// <summary>
/// The client's bytes on their way to one stream's backend. The session's reader writes them straight
/// into the backend's writer when it can (the backend is dialled, no flush of this stream is pending and
/// nothing waits in the queue), and flushes every stream it wrote to before it waits for anything
/// (<see cref="SmuxWrittenStreams"/>): one copy, one send for all that several frames brought, and no hop to
/// the stream's upstream loop. When it
/// cannot, it queues them, and the stream's upstream loop (<see cref="SmuxQueueDrain"/>) finishes the
/// pending flush and drains the queue in order. Bytes count as held (the session's budget in version 1,
/// the stream's window in version 2) from the moment they are read until the backend's flush that carries
/// them completes. It takes no more once the client sent FIN or the backend is gone.
/// </summary>
internal sealed class SmuxStreamInput
{
    // The session bounds what is held (its budget in version 1, the window in version 2), so the pipe never pauses on its own.
    // Immutable, so one for every stream.
    private static readonly PipeOptions QueueOptions = new(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false);
    private readonly Pipe _pipe = new(QueueOptions);
    private readonly Lock _lock = new();
    private bool _accepting = true;
    private bool _failed;
    // Held: in the queue, or written to the backend with the flush that carries them still pending.
    private int _queued;
    // Of the held bytes, those in the queue: while there are any, new bytes queue behind them.
    private int _inQueue;
    private long _bytesFromClient;
    private PipeWriter? _output;
    private CancellationToken _outputToken;
    // A flush the reader started and could not finish at once; the upstream loop awaits it (exactly once).
    private ValueTask<FlushResult> _pendingFlush;
    private int _pendingBytes;
    // Written to the backend by the reader and not yet flushed (it flushes before it waits for anything).
    private int _unflushed;
    private bool _flushPending;
    private bool _flushTaken;

    /// <summary>The upstream loop's end of the queue.</summary>
    public PipeReader Reader => _pipe.Reader;

    /// <summary>Client bytes held toward the backend: read, and not yet flushed to it.</summary>
    public int QueuedBytes
    {
        get { lock (_lock) return _queued; }
    }

    public long BytesFromClient
    {
        get { lock (_lock) return _bytesFromClient; }
    }

    /// <summary>A write to the backend failed: the upstream loop ends without a half-close.</summary>
    public bool Failed
    {
        get { lock (_lock) return _failed; }
    }

    /// <summary>The backend is connected: from now on the reader may write to it directly.</summary>
    public void Attach(PipeWriter output, CancellationToken token)
    {
        lock (_lock)
        {
            _output = output;
            _outputToken = token;
        }
    }

    /// <summary>Takes client data for the backend: written to it (held until flushed), queued (held), or dropped.</summary>
    public SmuxInputOutcome Take(ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            if (!_accepting) return SmuxInputOutcome.Dropped;
            _bytesFromClient += data.Length;
            if (_output is null || _flushPending || _inQueue > 0) return QueueLocked(data);
            // The writer copies into its own pooled segments: the one copy between the reader's buffer and the socket.
            _output.Write(data);
            _queued += data.Length;
            _unflushed += data.Length;
            return _unflushed == data.Length ? SmuxInputOutcome.HeldUntilFlush : SmuxInputOutcome.Held;
        }
    }

    /// <summary>
    /// The reader flushes what it wrote: returns the bytes that reached the backend at once and leave the count;
    /// a flush that cannot finish at once is handed to the upstream loop, and its bytes stay held until it does.
    /// <paramref name="failed"/> when the backend is gone.
    /// </summary>
    public int FlushWritten(out bool failed)
    {
        lock (_lock)
        {
            failed = false;
            int count = _unflushed;
            _unflushed = 0;
            // Released meanwhile (FIN flushed first, or the backend failed): nothing of ours to flush.
            if (count == 0 || !_accepting || _output is null) return 0;
            return FlushLocked(_output, count, out failed);
        }
    }

    /// <summary>
    /// For the upstream loop: the reader's pending flush, if there is one not yet taken. The loop awaits it,
    /// then calls <see cref="PendingFlushDone"/>; until then new data queues behind it.
    /// </summary>
    public bool TryTakePendingFlush(out ValueTask<FlushResult> flush)
    {
        lock (_lock)
        {
            flush = _pendingFlush;
            if (!_flushPending || _flushTaken) return false;
            _flushTaken = true;
            _pendingFlush = default;
            return true;
        }
    }

    /// <summary>
    /// The taken flush ended: <paramref name="flushed"/> bytes reached the backend; returns how many of them
    /// leave the count (none once <see cref="ReleaseAll"/> handed them back).
    /// </summary>
    public int PendingFlushDone(out int flushed)
    {
        lock (_lock)
        {
            flushed = _pendingBytes;
            int released = Math.Min(_pendingBytes, _queued);
            _queued -= released;
            _pendingBytes = 0;
            _flushPending = _flushTaken = false;
            return released;
        }
    }

    /// <summary>The client sent FIN: the reader gets end of input once the queue drains.</summary>
    public void Complete()
    {
        lock (_lock) CompleteLocked();
    }

    /// <summary>Queued bytes reached the backend; returns how many of them leave the count (none once <see cref="ReleaseAll"/> handed them back).</summary>
    public int Delivered(int count)
    {
        lock (_lock)
        {
            _inQueue -= count;
            int released = Math.Min(count, _queued);
            _queued -= released;
            return released;
        }
    }

    /// <summary>Takes no more; returns the bytes held and never delivered, which leave the count.</summary>
    public int ReleaseAll()
    {
        lock (_lock)
        {
            CompleteLocked();
            int released = _queued;
            _queued = 0;
            return released;
        }
    }

    /// <summary>
    /// The upstream loop is leaving: a flush the reader started and nobody took is awaited here, so the
    /// backend's writer is never disposed under it. Call after <see cref="ReleaseAll"/>.
    /// </summary>
    public async ValueTask AwaitUntakenFlushAsync()
    {
        if (!TryTakePendingFlush(out var flush)) return;
        try
        {
            await flush.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
        }
        PendingFlushDone(out _);
    }

    private SmuxInputOutcome QueueLocked(ReadOnlySpan<byte> data)
    {
        _pipe.Writer.Write(data);
        // With no pause threshold, the flush only publishes the bytes to the reader; it completes at once.
        var flush = _pipe.Writer.FlushAsync();
        if (flush.IsCompleted) flush.GetAwaiter().GetResult();
        else flush.AsTask().GetAwaiter().GetResult();
        _queued += data.Length;
        _inQueue += data.Length;
        return SmuxInputOutcome.Held;
    }

    private int FlushLocked(PipeWriter output, int count, out bool failed)
    {
        // Under the lock, so the loop's exit (ReleaseAll, then AwaitUntakenFlushAsync) cannot slip between the
        // write and the flush taking hold of it, and the backend is never disposed under a flush.
        failed = false;
        try
        {
            var flush = output.FlushAsync(_outputToken);
            if (!flush.IsCompleted)
            {
                _pendingFlush = flush;
                _pendingBytes = count;
                _flushPending = true;
                // Wakes the upstream loop (its read returns as cancelled) to finish the flush and deliver.
                _pipe.Reader.CancelPendingRead();
                return 0;
            }
            var result = flush.GetAwaiter().GetResult();
            if (!result.IsCompleted && !result.IsCanceled)
            {
                int released = Math.Min(count, _queued);
                _queued -= released;
                return released;
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            // The backend reset or went away: what the client still sends on this stream is dropped.
        }
        failed = true;
        _failed = true;
        CompleteLocked();
        return 0;
    }

    private void CompleteLocked()
    {
        if (!_accepting) return;
        _accepting = false;
        _pipe.Writer.Complete();
    }
}
