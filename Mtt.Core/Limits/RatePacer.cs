using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace Mtt.Core.Limits;

/// <summary>
/// One reading loop's way of waiting for its user's <see cref="RateBucket"/>: the loop does not read until the
/// bucket grants, so the client or backend meets TCP backpressure and nothing is buffered or dropped. Made
/// once per loop, the first time its user is rate limited; a wait reuses one timer and one completion source,
/// so pacing allocates nothing per message. The time spent waiting is added to the user's paced time.
/// </summary>
internal sealed class RatePacer : IValueTaskSource, IDisposable
{
    private readonly TimeProvider _time;
    private readonly UserLimiter _user;
    private readonly ITimer _timer;
    private readonly CancellationTokenRegistration _cancelled;
    private readonly CancellationToken _token;
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    // 1 while a wait is armed; the timer and the cancellation race to complete it once.
    private int _armed;

    public RatePacer(UserLimiter user, TimeProvider time, CancellationToken token)
    {
        _user = user;
        _time = time;
        _token = token;
        _timer = time.CreateTimer(static state => ((RatePacer)state!).Wake(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _cancelled = token.UnsafeRegister(static state => ((RatePacer)state!).Wake(), this);
    }

    /// <summary>Reserves from <paramref name="bucket"/> and waits until the reservation is due; the bytes granted (at most <paramref name="want"/>), or 0 once the loop is stopping.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> AcquireAsync(RateBucket bucket, int want)
    {
        if (_token.IsCancellationRequested) return 0;
        long granted = bucket.Take(want, out long readyAt);
        if (readyAt == 0) return (int)granted;
        long started = _time.GetTimestamp();
        await Delay(readyAt).ConfigureAwait(false);
        _user.AddPaced(_time.GetTimestamp() - started, _time.TimestampFrequency);
        if (!_token.IsCancellationRequested) return (int)granted;
        // Stopping: the reservation goes back to the user's other tunnels.
        bucket.Return(granted);
        return 0;
    }

    public void Dispose()
    {
        _cancelled.Dispose();
        _timer.Dispose();
    }

    private ValueTask Delay(long readyAt)
    {
        _core.Reset();
        Volatile.Write(ref _armed, 1);
        var due = _time.GetElapsedTime(_time.GetTimestamp(), readyAt);
        if (due <= TimeSpan.Zero) Wake();
        else
        {
            try
            {
                _timer.Change(due, Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                Wake();
            }
            // The clock may have moved on between reading it and setting the timer (a fake one in a test jumps).
            if (_time.GetTimestamp() >= readyAt) Wake();
        }
        if (_token.IsCancellationRequested) Wake();
        return new ValueTask(this, _core.Version);
    }

    private void Wake()
    {
        if (Interlocked.Exchange(ref _armed, 0) == 1) _core.SetResult(true);
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
