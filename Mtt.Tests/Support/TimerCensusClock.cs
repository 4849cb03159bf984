using Microsoft.Extensions.Time.Testing;

namespace Mtt.Tests.Support;

/// <summary>
/// A fake clock that remembers, weakly, what each timer made on it was made for (the state its callback is given),
/// so a test can ask what an idle connection still holds a timer for, without reaching into the server's objects.
/// </summary>
internal sealed class TimerCensusClock : FakeTimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<WeakReference> _states = [];

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (state is not null)
        {
            lock (_lock) _states.Add(new WeakReference(state));
        }
        return base.CreateTimer(callback, state, dueTime, period);
    }

    /// <summary>Timers made so far, for anything.</summary>
    public int TimersMade
    {
        get { lock (_lock) return _states.Count; }
    }

    /// <summary>After full collections: the timers' states that something still holds, by type name.</summary>
    public List<string> LiveTimerStates()
    {
        for (int i = 0; i < 2; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        lock (_lock)
        {
            var live = new List<string>();
            foreach (var state in _states)
            {
                if (state.Target is { } target) live.Add(target.GetType().Name);
            }
            return live;
        }
    }
}
