using System.Buffers;
using System.IO.Pipelines;

namespace Mtt.Core.Mux;

/// <summary>
/// The client's bytes on their way to one stream's backend: a queue the session's reader fills and the
/// stream's upstream loop drains, counted so the session's budget (version 1) or the stream's window
/// (version 2) knows what is held. It takes no more once the client sent FIN or the backend is gone.
/// </summary>
internal sealed class SmuxStreamInput
{
    // The session bounds what is queued (its budget in version 1, the window in version 2), so the pipe never pauses on its own.
    // Immutable, so one for every stream.
    private static readonly PipeOptions QueueOptions = new(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false);
    private readonly Pipe _pipe = new(QueueOptions);
    private readonly Lock _lock = new();
    private bool _accepting = true;
    private int _queued;
    private long _bytesFromClient;

    /// <summary>The upstream loop's end of the queue.</summary>
    public PipeReader Reader => _pipe.Reader;

    /// <summary>Client bytes queued toward the backend and not yet written to it.</summary>
    public int QueuedBytes
    {
        get { lock (_lock) return _queued; }
    }

    public long BytesFromClient
    {
        get { lock (_lock) return _bytesFromClient; }
    }

    /// <summary>Queues client data; false when the stream takes no more, and the caller drops it as smux drops data for a closed stream.</summary>
    public bool TryQueue(ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            if (!_accepting) return false;
            _pipe.Writer.Write(data);
            // With no pause threshold, the flush only publishes the bytes to the reader; it completes at once.
            var flush = _pipe.Writer.FlushAsync();
            if (flush.IsCompleted) flush.GetAwaiter().GetResult();
            else flush.AsTask().GetAwaiter().GetResult();
            _queued += data.Length;
            _bytesFromClient += data.Length;
            return true;
        }
    }

    /// <summary>The client sent FIN: the reader gets end of input once the queue drains.</summary>
    public void Complete()
    {
        lock (_lock) CompleteLocked();
    }

    /// <summary>Bytes reached the backend; returns how many of them leave the count (none once <see cref="ReleaseAll"/> handed them back).</summary>
    public int Delivered(int count)
    {
        lock (_lock)
        {
            int released = Math.Min(count, _queued);
            _queued -= released;
            return released;
        }
    }

    /// <summary>Takes no more; returns the bytes queued and never delivered, which leave the count.</summary>
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

    private void CompleteLocked()
    {
        if (!_accepting) return;
        _accepting = false;
        _pipe.Writer.Complete();
    }
}
