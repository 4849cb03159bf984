namespace Mtt.Core.Limits;

/// <summary>
/// A token bucket for one direction of one user's traffic, shared by all its tunnels and smux streams: it fills
/// at <c>rate</c> bytes a second up to one second's worth (the burst), and a reader takes tokens before it reads.
/// Grants are cut to a slice of the rate and reserved in the order asked, so the tunnels and streams of a user
/// that wait take turns instead of one taking the whole second. Time comes from a <see cref="TimeProvider"/>, so tests can drive it.
/// </summary>
internal sealed class RateBucket
{
    // The most one grant takes: a 32nd of a second's worth keeps the turns short, at most 16 KiB (one smux
    // frame of data, one read of a busy tunnel) keeps them cheap, and at least 1 KiB keeps a slow rate from
    // being paid in crumbs.
    private const long MaxSlice = 16 * 1024;
    private const long MinSlice = 1024;
    private const int SlicesPerSecond = 32;

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private long _rate;
    private double _tokens;
    private long _filledAt;

    public RateBucket(long rate, TimeProvider time)
    {
        _time = time;
        _rate = rate;
        _tokens = rate;
        _filledAt = time.GetTimestamp();
    }

    /// <summary>Bytes a second; 0 when the user's rate was lifted while tunnels still held this bucket (they then take freely).</summary>
    public long Rate => Volatile.Read(ref _rate);

    /// <summary>A new rate for the live bucket (0 lifts it); what is in it stays, up to the new burst.</summary>
    public void SetRate(long rate)
    {
        lock (_lock)
        {
            Refill();
            _rate = rate;
            if (_tokens > rate) _tokens = rate;
        }
    }

    /// <summary>
    /// Reserves up to <paramref name="want"/> bytes' worth, at most one slice: the bytes reserved, and when (a
    /// <see cref="TimeProvider.GetTimestamp"/>) the reader may read them, or 0 for now. A reservation is taken
    /// whether or not the tokens are there yet (the bucket goes into debt), so readers are served in the order
    /// they asked: one that wants a whole slice is never starved by one that keeps taking small reads as soon as
    /// a few bytes trickle in, and no reader spins on crumbs. The debt is at most one slice per waiting reader.
    /// </summary>
    public long Take(long want, out long readyAt)
    {
        readyAt = 0;
        lock (_lock)
        {
            if (_rate == 0) return want;
            Refill();
            long slice = Math.Clamp(_rate / SlicesPerSecond, Math.Min(MinSlice, _rate), MaxSlice);
            long grant = Math.Min(want, slice);
            _tokens -= grant;
            if (_tokens < 0) readyAt = _filledAt + (long)Math.Ceiling(-_tokens / _rate * _time.TimestampFrequency);
            return grant;
        }
    }

    /// <summary>Gives back what a grant did not use (a read that brought less than it was allowed, or a reader that stopped waiting).</summary>
    public void Return(long unused)
    {
        if (unused <= 0) return;
        lock (_lock)
        {
            if (_rate == 0) return;
            _tokens = Math.Min(_tokens + unused, _rate);
        }
    }

    private void Refill()
    {
        long now = _time.GetTimestamp();
        double seconds = (now - _filledAt) / (double)_time.TimestampFrequency;
        _filledAt = now;
        if (seconds > 0) _tokens = Math.Min(_rate, _tokens + seconds * _rate);
    }
}
