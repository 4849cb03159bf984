using Microsoft.Extensions.Time.Testing;

namespace Mtt.Tests.Support;

/// <summary>A fake clock that signals when the first timer of a given due time is set, and when that timer is moved.</summary>
public sealed class TimerWatchingClock(TimeSpan watched) : TimeProvider
{
    private readonly FakeTimeProvider _fake = new();
    private readonly TaskCompletionSource _set = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<TimeSpan> _moved = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task DeadlineSet => _set.Task;

    public Task<TimeSpan> DeadlineMoved => _moved.Task;

    public void Advance(TimeSpan delta) => _fake.Advance(delta);

    public override DateTimeOffset GetUtcNow() => _fake.GetUtcNow();

    public override long GetTimestamp() => _fake.GetTimestamp();

    public override long TimestampFrequency => _fake.TimestampFrequency;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = _fake.CreateTimer(callback, state, dueTime, period);
        if (dueTime != watched || !_set.TrySetResult()) return timer;
        return new WatchedTimer(timer, _moved);
    }

    // The watched timer: tells when the code under test moves it.
    private sealed class WatchedTimer(ITimer inner, TaskCompletionSource<TimeSpan> moved) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            bool changed = inner.Change(dueTime, period);
            moved.TrySetResult(dueTime);
            return changed;
        }

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
