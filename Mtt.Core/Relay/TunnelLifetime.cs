using System.Runtime.CompilerServices;

namespace Mtt.Core.Relay;

/// <summary>
/// How one tunnel (a plain tunnel or an smux session) ends: the reason (the first one wins), the stop
/// of its loops, the grace a write to the client gets to finish, and one watchdog timer that looks at
/// every deadline of the tunnel at once, rescheduled to the next one due, so no read or write sets a
/// timer of its own. All time is read from one <see cref="TimeProvider"/>, so tests drive the timeouts
/// with a fake clock.
/// </summary>
/// <remarks>
/// The watchdog's deadlines: a write to the client that makes no progress for the idle timeout (the
/// client stopped reading: the write is cut at once, with no grace, and no close frame can follow
/// part of a frame); no data either way for the idle timeout, while the owner allows it; and the
/// owner's own (smux keepalives).
/// </remarks>
internal sealed class TunnelLifetime<TReason> where TReason : struct, Enum
{
    private static readonly TimeSpan MinimumDelay = TimeSpan.FromMilliseconds(1);

    private readonly TimeProvider _time;
    private readonly long _idleTicks;
    private readonly TimeSpan _writeGrace;
    private readonly TReason _idleReason;
    private readonly TReason _stalledReason;
    private readonly ITunnelWatch? _watch;
    // Stopping cancels reads (and writes to the backend, which is dropped anyway) at once. A write to the
    // client is let finish for the grace period: cut short, it would leave half a frame on the wire and no
    // close frame could follow it.
    private readonly CancellationTokenSource _stop = new();
    // Made without a clock: a source made on a TimeProvider other than the system's makes its timer at once (it has
    // nowhere else to keep the clock), and an idle tunnel would hold it for its life. The grace's timer is made when
    // the tunnel stops, on the lifetime's clock, whichever it is.
    private readonly CancellationTokenSource _abortClientWrites = new();
    private ITimer? _timer;
    private ITimer? _graceTimer;
    private long _lastActivity;
    // When the write to the client in progress began; 0 while none is.
    private long _clientWriteStarted;
    // The reason as its int value (the end reason enums are int-based), so the first one wins by a compare-exchange.
    private int _endReason = -1;
    private TReason _stoppingReason;
    private TReason _revokedReason;
    private TReason _limitReason;
    private bool _disposed;
    private CancellationTokenRegistration _stoppingRegistration;
    private CancellationTokenRegistration _revokedRegistration;
    private CancellationTokenRegistration _limitRegistration;

    static TunnelLifetime()
    {
        if (Unsafe.SizeOf<TReason>() != sizeof(int)) throw new NotSupportedException($"{typeof(TReason)} is not int-based");
    }

    /// <param name="watch">The owner's own deadlines and what it does on stopping; null for none.</param>
    public TunnelLifetime(TimeProvider time, TimeSpan idleTimeout, TimeSpan writeGrace, TReason idleReason, TReason stalledReason, ITunnelWatch? watch = null)
    {
        _time = time;
        _idleTicks = ToTicks(idleTimeout);
        _writeGrace = writeGrace;
        _idleReason = idleReason;
        _stalledReason = stalledReason;
        _watch = watch;
        _lastActivity = time.GetTimestamp();
        Stopping = _stop.Token;
        ClientWrites = _abortClientWrites.Token;
    }

    public TimeProvider Time => _time;

    /// <summary>Cancelled once the tunnel stops: for reads, and writes to the backend.</summary>
    public CancellationToken Stopping { get; }

    /// <summary>For writes to the client: cancelled the grace period after the stop, or at once when the client stalls.</summary>
    public CancellationToken ClientWrites { get; }

    public bool IsStopping => Stopping.IsCancellationRequested;

    public TReason? EndReason
    {
        get
        {
            int value = Volatile.Read(ref _endReason);
            return value < 0 ? null : Unsafe.As<int, TReason>(ref value);
        }
    }

    /// <summary>The watchdog's clock, in <see cref="TimeProvider.GetTimestamp"/> units.</summary>
    public long Now => _time.GetTimestamp();

    /// <summary><paramref name="span"/> in <see cref="Now"/>'s units.</summary>
    public long ToTicks(TimeSpan span) => (long)(span.Ticks * ((double)_time.TimestampFrequency / TimeSpan.TicksPerSecond));

    /// <summary>Data moved: the idle clock restarts.</summary>
    public void Touch() => Volatile.Write(ref _lastActivity, _time.GetTimestamp());

    /// <summary>A write to the client begins; until <see cref="ClientWriteEnded"/>, the watchdog watches it make progress.</summary>
    public void ClientWriteStarted() => Volatile.Write(ref _clientWriteStarted, _time.GetTimestamp());

    public void ClientWriteEnded() => Volatile.Write(ref _clientWriteStarted, 0);

    /// <summary>
    /// Starts the watchdog, and obeys the server's stop, the user's revocation and the user's limit (a quota spent,
    /// an expiry reached), each at once if it fired already.
    /// </summary>
    public void Start(CancellationToken serverStopping, TReason stoppingReason, CancellationToken revoked, TReason revokedReason,
        CancellationToken limitReached = default, TReason limitReason = default)
    {
        _stoppingReason = stoppingReason;
        _revokedReason = revokedReason;
        _limitReason = limitReason;
        _stoppingRegistration = serverStopping.UnsafeRegister(static state => ((TunnelLifetime<TReason>)state!).Stop(((TunnelLifetime<TReason>)state!)._stoppingReason), this);
        _revokedRegistration = revoked.UnsafeRegister(static state => ((TunnelLifetime<TReason>)state!).Stop(((TunnelLifetime<TReason>)state!)._revokedReason), this);
        _limitRegistration = limitReached.UnsafeRegister(static state => ((TunnelLifetime<TReason>)state!).Stop(((TunnelLifetime<TReason>)state!)._limitReason), this);
        lock (TimerLock) _timer = _time.CreateTimer(static state => ((TunnelLifetime<TReason>)state!).Tick(), this, NextDelay(Now), Timeout.InfiniteTimeSpan);
    }

    /// <summary>Records why the tunnel ends, unless a reason was recorded already; true when this one was.</summary>
    public bool End(TReason reason) => Interlocked.CompareExchange(ref _endReason, Unsafe.As<TReason, int>(ref reason), -1) == -1;

    /// <summary>Ends the tunnel for <paramref name="reason"/> (unless it ended already) and stops its loops.</summary>
    public void Stop(TReason reason)
    {
        End(reason);
        StopLoops();
    }

    /// <summary>Stops the loops; a write to the client in progress has the grace period to finish.</summary>
    public void StopLoops()
    {
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The tunnel is over already.
        }
        StartGrace();
        _watch?.OnStopping();
    }

    /// <summary>Makes the watchdog look again now, for a deadline that has just come into force (an smux session's last stream ended).</summary>
    public void WatchAgain()
    {
        lock (TimerLock)
        {
            try { _timer?.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan); }
            catch (ObjectDisposedException) { }
        }
    }

    /// <summary>Stops the watchdog and the stop and revocation callbacks; once this completes, none runs or will.</summary>
    public async ValueTask StopWatchingAsync()
    {
        await _stoppingRegistration.DisposeAsync().ConfigureAwait(false);
        await _revokedRegistration.DisposeAsync().ConfigureAwait(false);
        await _limitRegistration.DisposeAsync().ConfigureAwait(false);
        ITimer? timer;
        lock (TimerLock)
        {
            timer = _timer;
            _timer = null;
        }
        if (timer is not null) await timer.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>After the loops and the watchdog have ended.</summary>
    public void Dispose()
    {
        ITimer? grace;
        lock (TimerLock)
        {
            grace = _graceTimer;
            _graceTimer = null;
            _disposed = true;
        }
        grace?.Dispose();
        _stop.Dispose();
        _abortClientWrites.Dispose();
    }

    // The stop and the grace's timer are the lifetime's own: no one else locks on it, so it needs no lock object of its own.
    private object TimerLock => this;

    /// <summary>Once: a write to the client in progress has the grace period to finish, then it is cut.</summary>
    private void StartGrace()
    {
        lock (TimerLock)
        {
            if (_graceTimer is not null || _disposed) return;
            _graceTimer = _time.CreateTimer(static state => ((TunnelLifetime<TReason>)state!).AbortClientWrites(), this, _writeGrace, Timeout.InfiniteTimeSpan);
        }
    }

    private void AbortClientWrites()
    {
        try { _abortClientWrites.Cancel(); }
        catch (ObjectDisposedException) { }
    }

    private void Tick()
    {
        if (IsStopping) return;
        long now = Now;
        long writeStarted = Volatile.Read(ref _clientWriteStarted);
        if (writeStarted != 0 && now - writeStarted >= _idleTicks)
        {
            _watch?.OnClientStalled();
            CutStalledClient();
            return;
        }
        if (_watch is not null && !_watch.Check(now)) return;
        if ((_watch?.IdleAllowed ?? true) && now - Volatile.Read(ref _lastActivity) >= _idleTicks)
        {
            Stop(_idleReason);
            return;
        }
        lock (TimerLock)
        {
            try { _timer?.Change(NextDelay(now), Timeout.InfiniteTimeSpan); }
            catch (ObjectDisposedException) { }
        }
    }

    /// <summary>The time until the first deadline that could be due: the owner's, the idle one's, the write's in progress.</summary>
    private TimeSpan NextDelay(long now)
    {
        long writeStarted = Volatile.Read(ref _clientWriteStarted);
        // A write that starts after this tick is looked at within the idle timeout, and then at its own deadline.
        long next = writeStarted != 0 ? writeStarted + _idleTicks : now + _idleTicks;
        if (_watch?.IdleAllowed ?? true) next = Math.Min(next, Volatile.Read(ref _lastActivity) + _idleTicks);
        if (_watch is not null) next = Math.Min(next, _watch.NextDeadline);
        // At least a millisecond: a deadline just passed is looked at promptly, never in a busy loop.
        var delay = _time.GetElapsedTime(now, next);
        return delay > MinimumDelay ? delay : MinimumDelay;
    }

    /// <summary>
    /// The client has taken nothing of a write for the idle timeout: the write is aborted at once, with no
    /// grace. Cut short it leaves part of a frame on the wire, so no close frame can follow; the
    /// connection is simply dropped.
    /// </summary>
    private void CutStalledClient()
    {
        Stop(_stalledReason);
        AbortClientWrites();
    }
}
