namespace Mtt.Benchmarks.Load;

/// <summary>A process's resident memory once it has settled: the least of a few samples after a pause.</summary>
internal static class SettledRss
{
    // Lets the process finish what the last connection set off (timers, GC) before memory is read.
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);
    private const int Samples = 5;
    private static readonly TimeSpan SampleGap = TimeSpan.FromMilliseconds(250);

    /// <summary>Waits, then the least VmRSS (KiB) of a few samples: a transient buffer is not the steady state.</summary>
    public static async Task<long> ReadAsync(int pid, CancellationToken cancellationToken)
    {
        await Task.Delay(Settle, cancellationToken).ConfigureAwait(false);
        long least = long.MaxValue;
        for (int i = 0; i < Samples; i++)
        {
            if (i > 0) await Task.Delay(SampleGap, cancellationToken).ConfigureAwait(false);
            least = Math.Min(least, ProcFs.ReadRssKiB(pid));
        }
        return least;
    }
}
