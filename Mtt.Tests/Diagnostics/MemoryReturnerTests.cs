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
        var returner = new MemoryReturner(new ServerLog(TextWriter.Synchronized(output), verbose: false), () => Volatile.Read(ref active), time);
        PeakThenFallToZero(returner, i => Volatile.Write(ref active, i));
        await FakeClock.AdvanceUntilAsync(time, returner.LastTrim, TimeSpan.FromMilliseconds(250));

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.Contains($"INFO memory returned: 0 connections open (peak {MemoryReturner.MinimumPeak}); RSS ", line);
        Assert.Matches(@"RSS \d+\.\d -> \d+\.\d MiB", line);
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
        returner = new MemoryReturner(new ServerLog(TextWriter.Synchronized(output), verbose: false), () => Volatile.Read(ref active), time);
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
        await FakeClock.AdvanceUntilAsync(time, second, TimeSpan.FromSeconds(1), limit: MemoryReturner.MinimumInterval + TimeSpan.FromSeconds(15));

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
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
