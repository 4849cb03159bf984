namespace Mtt.Core.Limits;

/// <summary>
/// A token bucket for one direction of one user's traffic, shared by all its tunnels and smux streams: it fills
/// at <c>rate</c> bytes a second up to one second's worth (the burst), and a reader takes tokens before it reads.
/// Grants are cut to a slice of the rate, so the tunnels of a user that wait take turns instead of one taking
/// the whole second. Time comes from a <see cref="TimeProvider"/>, so tests can drive it.
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
    /// Takes up to <paramref name="want"/> bytes' worth: the bytes granted, or 0 and when (a
    /// <see cref="TimeProvider.GetTimestamp"/>) a slice will be there.
    /// </summary>
    public long Take(long want, out long readyAt)
    {
        readyAt = 0;
        lock (_lock)
        {
            if (_rate == 0) return want;
            Refill();
            long slice = Math.Clamp(_rate / SlicesPerSecond, Math.Min(MinSlice, _rate), MaxSlice);
            // Whole slices only (or all a small read wants): granting the few bytes that trickle in between two
            // reads would have every paced loop spin on crumbs, at the cost of every other user's CPU.
            long grant = Math.Min(want, slice);
            if (_tokens >= grant)
            {
                _tokens -= grant;
                return grant;
            }
            // Wait for as much as this reader would take, so that waking up is worth it.
            double missing = grant - _tokens;
            readyAt = _filledAt + (long)Math.Ceiling(missing / _rate * _time.TimestampFrequency);
            return 0;
        }
    }

    /// <summary>Gives back what a grant did not use (a read that brought less than it was allowed).</summary>
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
