namespace Mtt.Benchmarks.Load;

/// <summary>
/// The pause between a warm-up and the first measurement: until every target has gone quiet. .NET's tiered JIT
/// recompiles hot methods on a background thread after the warm-up that made them hot (about a thousand methods for
/// the server: seconds of CPU), and a fixed second was not always enough: what was still compiling was charged to the
/// first run (seen: 6.5 % of a 16-tunnel run's server CPU). Measurements are of the steady state an operator's
/// long-running server is in.
/// </summary>
internal static class SettleAfterWarmup
{
    private static readonly TimeSpan AtLeast = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan AtMost = TimeSpan.FromSeconds(20);
    // Quiet: at most one clock tick (10 ms) of CPU over this window, since /proc counts in ticks.
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(250);

    /// <summary>Waits at least a second, then until each process used at most a clock tick over 250 ms (20 s at most).</summary>
    public static async Task WaitAsync(IEnumerable<ChildProcess> processes, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + AtMost;
        await Task.Delay(AtLeast, cancellationToken).ConfigureAwait(false);
        foreach (var process in processes)
        {
            while (DateTime.UtcNow < deadline)
            {
                double before = ProcFs.ReadCpuSeconds(process.Pid);
                await Task.Delay(Window, cancellationToken).ConfigureAwait(false);
                if (ProcFs.ReadCpuSeconds(process.Pid) - before <= 1.0 / ProcFs.ClockTicksPerSecond) break;
            }
        }
    }
}
