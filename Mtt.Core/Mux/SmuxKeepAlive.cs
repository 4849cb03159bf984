namespace Mtt.Core.Mux;

/// <summary>
/// The keepalive clocks of one smux session (docs/protocol.md §4, as xtaci/smux keeps them): a NOP to the client
/// every interval, and the session given up when nothing arrived from the client for the timeout. While
/// the session's reader waits for backends to take their bytes, the client's silence is ours, so the
/// timeout does not run. Times are <see cref="TimeProvider.GetTimestamp"/> values.
/// </summary>
internal sealed class SmuxKeepAlive
{
    private readonly long _intervalTicks;
    private readonly long _timeoutTicks;
    private long _lastReceived;
    private long _lastSent;
    private volatile bool _readStalled;

    public SmuxKeepAlive(long now, long intervalTicks, long timeoutTicks)
    {
        _intervalTicks = intervalTicks;
        _timeoutTicks = timeoutTicks;
        _lastReceived = now;
        _lastSent = now;
    }

    /// <summary>True while the session's reader waits for room (its client is not silent, we are not reading).</summary>
    public bool ReadStalled
    {
        get => _readStalled;
        set => _readStalled = value;
    }

    /// <summary>Something arrived from the client, or we resumed reading it: the silence clock restarts.</summary>
    public void Received(long now) => Volatile.Write(ref _lastReceived, now);

    /// <summary>The next time a NOP is due or the silence could run out.</summary>
    public long NextDeadline => Math.Min(Volatile.Read(ref _lastSent) + _intervalTicks, Volatile.Read(ref _lastReceived) + _timeoutTicks);

    /// <summary>True when a NOP is due now; the clock then counts from now.</summary>
    public bool TakeNopDue(long now)
    {
        if (now - Volatile.Read(ref _lastSent) < _intervalTicks) return false;
        Volatile.Write(ref _lastSent, now);
        return true;
    }

    /// <summary>True when nothing has arrived from the client for the timeout (and we were reading).</summary>
    public bool IsSilent(long now) => !_readStalled && now - Volatile.Read(ref _lastReceived) >= _timeoutTicks;
}
