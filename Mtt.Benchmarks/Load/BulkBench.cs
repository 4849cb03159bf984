using System.Diagnostics;

namespace Mtt.Benchmarks.Load;

/// <summary>Echo throughput through a target, with the target's CPU and resident memory read from /proc.</summary>
internal static class BulkBench
{
    // A measurement that has not finished by then has hung; better a failure than a harness that waits forever.
    private static readonly TimeSpan MeasurementTimeout = TimeSpan.FromMinutes(10);

    // Tiered JIT promotes hot methods after a 100 ms quiet period; this lets the promotions finish before timing.
    private static readonly TimeSpan AfterWarmup = TimeSpan.FromSeconds(1);

    /// <summary>Echoes a little through one channel so both processes have jitted their hot paths.</summary>
    public static async Task WarmUpAsync(IEchoTarget target, LoadOptions options, CancellationToken cancellationToken)
    {
        if (options.WarmupBytes == 0) return;
        await using var channel = await target.OpenAsync(cancellationToken).ConfigureAwait(false);
        var outcome = await EchoRun.RunAsync([channel], options.WarmupBytes, options.ChunkSize, options.Verify, cancellationToken).ConfigureAwait(false);
        await channel.CloseAsync().ConfigureAwait(false);
        if (!outcome.Exact) throw new InvalidOperationException($"warm-up through {target.Label}: {outcome.Fault}");
        await Task.Delay(AfterWarmup, cancellationToken).ConfigureAwait(false);
    }

    public static async Task<BulkMeasurement> MeasureAsync(IEchoTarget target, LoadOptions options, int run, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(MeasurementTimeout);
        var channels = new List<EchoChannel>();
        try
        {
            channels.AddRange(await target.OpenChannelsAsync(options.Tunnels, timeout.Token).ConfigureAwait(false));

            int pid = target.Process.Pid;
            var self = Process.GetCurrentProcess();
            double serverCpuBefore = ProcFs.ReadCpuSeconds(pid);
            long switchesBefore = ProcFs.ReadContextSwitches(pid);
            var clientCpuBefore = self.TotalProcessorTime;
            await using var rss = RssSampler.Start(pid);

            var outcome = await EchoRun.RunAsync(channels, options.Bytes, options.ChunkSize, options.Verify, timeout.Token).ConfigureAwait(false);

            double serverCpu = ProcFs.ReadCpuSeconds(pid) - serverCpuBefore;
            long switches = ProcFs.ReadContextSwitches(pid) - switchesBefore;
            self.Refresh();
            double clientCpu = (self.TotalProcessorTime - clientCpuBefore).TotalSeconds;
            await rss.StopAsync().ConfigureAwait(false);
            target.Process.ThrowIfExited();

            double gigabytes = outcome.Bytes / 1e9;
            double megabytes = outcome.Bytes / 1e6;
            return new BulkMeasurement(
                target.Label, target.Kind, target.Tls, options.Tunnels, channels.Count / options.Tunnels, run, outcome.Bytes, outcome.Seconds,
                outcome.Bytes / 1e6 / outcome.Seconds, serverCpu, serverCpu / gigabytes, clientCpu,
                switches / megabytes,
                rss.StartKiB, rss.MaxKiB, rss.EndKiB, rss.Samples, outcome.Exact, outcome.Fault);
        }
        finally
        {
            foreach (var channel in channels)
            {
                await channel.CloseAsync().ConfigureAwait(false);
                await channel.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
