using Microsoft.Extensions.Time.Testing;

namespace Mtt.Tests.Support;

/// <summary>Driving a <see cref="FakeTimeProvider"/> until what a test waits for has happened.</summary>
internal static class FakeClock
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Moves <paramref name="time"/> on by <paramref name="step"/> until <paramref name="observed"/> completes, and returns
    /// how far it moved. The code under test arms its timers when it gets to them, so one big step could come before a
    /// timer exists; small steps let each wait end in turn. Fails once the clock has moved past <paramref name="limit"/>
    /// (when given) or after 30 s of real time.
    /// </summary>
    public static async Task<TimeSpan> AdvanceUntilAsync(FakeTimeProvider time, Task observed, TimeSpan step, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + Bound;
        var moved = TimeSpan.Zero;
        while (!observed.IsCompleted)
        {
            if (moved > limit) throw new TimeoutException($"nothing after {moved} on the fake clock");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"nothing while the fake clock moved {moved}");
            // Off the test's context: the clock runs the timer callbacks on the advancing thread.
            await Task.Run(() => time.Advance(step));
            moved += step;
            await Task.WhenAny(observed, Task.Delay(10));
        }
        await observed;
        return moved;
    }

    /// <summary>As <see cref="AdvanceUntilAsync(FakeTimeProvider, Task, TimeSpan, TimeSpan?)"/>, returning what was observed.</summary>
    public static async Task<T> AdvanceUntilAsync<T>(FakeTimeProvider time, Task<T> observed, TimeSpan step)
    {
        await AdvanceUntilAsync(time, (Task)observed, step);
        return await observed;
    }
}
