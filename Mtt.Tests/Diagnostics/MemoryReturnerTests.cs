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
