namespace Mtt.Core.Mux;

/// <summary>
/// The streams the session's reader wrote client bytes to since it last flushed them. The reader flushes them
/// all, once each, before it waits for anything (or once <see cref="MaxBytesBeforeFlush"/> is written), so one
/// backend send carries everything one or more receives brought for that stream.
/// </summary>
internal sealed class SmuxWrittenStreams
{
    /// <summary>Written before the reader flushes though more is waiting: a send of the old upstream loop's size.</summary>
    public const int MaxBytesBeforeFlush = 64 * 1024;

    // Each stream at most once (SmuxInputOutcome.HeldUntilFlush), so at most one per frame in the receive buffer:
    // the list stops growing at the most that ever met in one buffer.
    private readonly List<SmuxStream> _streams = new(4);

    /// <summary>Client bytes held (written or queued) since the last flush.</summary>
    public int Bytes { get; private set; }

    /// <summary>Notes data a stream took: a stream written to for the first time since its flush joins the list.</summary>
    public void Took(SmuxStream stream, SmuxInputOutcome outcome, int bytes)
    {
        if (outcome == SmuxInputOutcome.HeldUntilFlush) _streams.Add(stream);
        Bytes += bytes;
    }

    /// <summary>Flushes every stream written to; returns the bytes that reached their backends at once.</summary>
    public int FlushAll()
    {
        Bytes = 0;
        int released = 0;
        foreach (var stream in _streams) released += stream.FlushWritten();
        _streams.Clear();
        return released;
    }
}
