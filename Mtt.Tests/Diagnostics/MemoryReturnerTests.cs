using Microsoft.Extensions.Time.Testing;
using Mtt.Core.Diagnostics;
using Mtt.Tests.Support;

namespace Mtt.Tests.Diagnostics;

public sealed class MemoryReturnerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static void PeakThenFallToZero(MemoryReturner returner, Action<int> setActive)
    {
        for (int i = 1; i <= MemoryReturner.MinimumPeak; i++) returner.ConnectionOpened(i);
        for (int i = MemoryReturner.MinimumPeak - 1; i >= 0; i--)
        {
            setActive(i);
            returner.ConnectionEnded(i);
        }
    }

    [Fact]
    public async Task AfterAPeakOfManyConnections_FallingToAQuarter_TrimsOnceAndLogsTheRss()
    {
        var output = new StringWriter();
        int active = 0;
        var time = new FakeTimeProvider();
        // A pool that retires no thread: the second trim comes once the pool's idle timeout has passed.
        var returner = new MemoryReturner(new ServerLog(TextWriter.Synchronized(output), verbose: false), () => Volatile.Read(ref active), time, () => 4);
        PeakThenFallToZero(returner, i => Volatile.Write(ref active, i));
        var moved = await FakeClock.AdvanceUntilAsync(time, returner.LastTrim, TimeSpan.FromMilliseconds(250));

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Contains($"INFO memory returned: 0 connections open (peak {MemoryReturner.MinimumPeak}); RSS ", lines[0]);
        Assert.Matches(@"RSS \d+\.\d -> \d+\.\d MiB", lines[0]);
        Assert.Contains("INFO memory returned as pool threads ended: 4 -> 4 pool threads, 0 connections open; RSS ", lines[1]);
        Assert.Matches(@"RSS \d+\.\d -> \d+\.\d MiB \(malloc_trim: True\)", lines[1]);
        Assert.True(moved >= MemoryReturner.PoolThreadTimeout, $"the second trim came {moved} after the closes, before the pool's idle threads could end");
    }

    [Fact]
    public async Task AfterTheTrim_WhenThePoolRetiresItsBurstThreads_TrimsAgainWithoutWaitingForTheLimit()
    {
        var output = new StringWriter();
        int active = 0;
        var time = new FakeTimeProvider();
        var start = time.GetUtcNow();
        // The pool grew to 12 threads: 2 that idled through the closing retire 3 s after it, 5 that worked in it 21 s after
        // it (the pool's idle timeout), and one more each second after that until 25 s.
        int PoolThreads()
        {
            var elapsed = time.GetUtcNow() - start;
            return elapsed < TimeSpan.FromSeconds(3) ? 12 : elapsed < TimeSpan.FromSeconds(21) ? 10 : Math.Max(1, 5 - (int)(elapsed - TimeSpan.FromSeconds(21)).TotalSeconds);
        }
        var returner = new MemoryReturner(new ServerLog(TextWriter.Synchronized(output), verbose: false), () => Volatile.Read(ref active), time, PoolThreads);
        PeakThenFallToZero(returner, i => Volatile.Write(ref active, i));
        var moved = await FakeClock.AdvanceUntilAsync(time, returner.LastTrim, TimeSpan.FromMilliseconds(250));

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Contains("memory returned as pool threads ended: 12 -> 1 pool threads, 0 connections open; RSS ", lines[1]);
        Assert.InRange(moved, TimeSpan.FromSeconds(25), MemoryReturner.PoolThreadsLimit - TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task AfterTheTrim_IfTheServerIsBusyAgainWhenThePoolThreadsEnd_DoesNotTrimAgain()
    {
        var output = new StringWriter();
        int active = 0;
        var time = new FakeTimeProvider();
        var returner = new MemoryReturner(new ServerLog(TextWriter.Synchronized(output), verbose: false), () => Volatile.Read(ref active), time, () => 4);
        PeakThenFallToZero(returner, i => Volatile.Write(ref active, i));
        // The first trim has run once its line is written; then a new burst of clients arrives.
        var firstLine = WaitForTextAsync(output, "memory returned: 0 connections open");
        await FakeClock.AdvanceUntilAsync(time, firstLine, TimeSpan.FromMilliseconds(250));
        Volatile.Write(ref active, MemoryReturner.MinimumPeak);
        await FakeClock.AdvanceUntilAsync(time, returner.LastTrim, TimeSpan.FromMilliseconds(250));

        var line = Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("memory returned: 0 connections open", line);
    }

    private static async Task WaitForTextAsync(StringWriter output, string text)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (!output.ToString().Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no '{text}' in the log");
            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task ConnectionsEndingWhileATrimRuns_AreTrimmedAgainOneIntervalLater()
    {
        int active = 0;
        MemoryReturner? returner = null;
        // The last quarter of the connections ends while the first trim runs (as its line is written), as the tail of a
        // burst of closes does on a busy machine.
        var output = new ActionOnFirstWrite(() =>
        {
            for (int i = MemoryReturner.MinimumPeak - 1; i >= 0; i--)
            {
                Volatile.Write(ref active, i);
                returner!.ConnectionEnded(i);
            }
        });
        var time = new FakeTimeProvider();
        returner = new MemoryReturner(new ServerLog(TextWriter.Synchronized(output), verbose: false), () => Volatile.Read(ref active), time, () => 4);
        for (int i = 1; i <= 4 * MemoryReturner.MinimumPeak; i++) returner.ConnectionOpened(i);
        for (int i = 4 * MemoryReturner.MinimumPeak - 1; i >= MemoryReturner.MinimumPeak; i--)
        {
            Volatile.Write(ref active, i);
            returner.ConnectionEnded(i);
        }
        var first = returner.LastTrim;
        await FakeClock.AdvanceUntilAsync(time, first, TimeSpan.FromMilliseconds(250));

        var second = returner.LastTrim;
        Assert.NotSame(first, second);
        await FakeClock.AdvanceUntilAsync(time, second, TimeSpan.FromSeconds(1), limit: MemoryReturner.MinimumInterval + MemoryReturner.PoolThreadsLimit + TimeSpan.FromSeconds(15));

        // Each full trim is followed by its second, glibc-only one (the pool here never retires a thread).
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains("memory returned: ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, lines.Length);
        Assert.Contains($"memory returned: {MemoryReturner.MinimumPeak} connections open (peak {4 * MemoryReturner.MinimumPeak})", lines[0]);
        Assert.Contains($"memory returned: 0 connections open (peak {MemoryReturner.MinimumPeak})", lines[1]);
    }

    /// <summary>A StringWriter that runs an action once, when the first text is written to it.</summary>
    private sealed class ActionOnFirstWrite(Action action) : StringWriter
    {
        private Action? _action = action;

        public override void Write(char value)
        {
            Interlocked.Exchange(ref _action, null)?.Invoke();
            base.Write(value);
        }

        public override void Write(string? value)
        {
            Interlocked.Exchange(ref _action, null)?.Invoke();
            base.Write(value);
        }

        public override void Write(char[] buffer, int index, int count)
        {
            Interlocked.Exchange(ref _action, null)?.Invoke();
            base.Write(buffer, index, count);
        }

        public override void Write(ReadOnlySpan<char> buffer)
        {
            Interlocked.Exchange(ref _action, null)?.Invoke();
            base.Write(buffer);
        }
    }

    [Fact]
    public async Task WhileTheCountStaysAboveAQuarterOfThePeak_NothingIsTrimmed()
    {
        var output = new StringWriter();
        int active = 0;
        var returner = new MemoryReturner(new ServerLog(TextWriter.Synchronized(output), verbose: false), () => Volatile.Read(ref active));
        for (int i = 1; i <= 4 * MemoryReturner.MinimumPeak; i++) returner.ConnectionOpened(i);

        for (int i = 4 * MemoryReturner.MinimumPeak - 1; i > MemoryReturner.MinimumPeak; i--) returner.ConnectionEnded(i);
        await returner.LastTrim.WaitAsync(Bound);

        Assert.Same(Task.CompletedTask, returner.LastTrim);
        Assert.Equal("", output.ToString());
    }

    [Fact]
    public void BelowTheMinimumPeak_AllConnectionsEnding_TrimsNothing()
    {
        var output = new StringWriter();
        var returner = new MemoryReturner(new ServerLog(TextWriter.Synchronized(output), verbose: false), () => 0);
        for (int i = 1; i < MemoryReturner.MinimumPeak; i++) returner.ConnectionOpened(i);

        for (int i = MemoryReturner.MinimumPeak - 2; i >= 0; i--) returner.ConnectionEnded(i);

        Assert.Same(Task.CompletedTask, returner.LastTrim);
        Assert.Equal("", output.ToString());
    }

    [Fact]
    public void ResidentBytes_ReadsThisProcesssRss()
    {
        long rss = MemoryReturner.ResidentBytes();

        Assert.InRange(rss, 1L << 20, 64L << 30);
    }
}
