using System.Diagnostics;

namespace Mtt.Benchmarks.Load;

/// <summary>Echo throughput through a target, with the target's CPU and resident memory read from /proc.</summary>
internal static class BulkBench
{
    // A measurement that has not finished by then has hung; better a failure than a harness that waits forever.
    private static readonly TimeSpan MeasurementTimeout = TimeSpan.FromMinutes(10);

    // Connections the warm-up opens and closes first: the JIT promotes a method after 30 calls, twice (instrumented,
    // then optimized), and a connection's own paths (the handshake, the route, the pipes' set-up and tear-down) are
    // called about once per connection.
    private const int WarmupConnections = 128;
    private const int WarmupPasses = 2;

    /// <summary>
    /// Warms both processes up the way the measurement will run them, so what they compile is compiled before it, in
    /// two passes (a method the first pass made hot is recompiled with its profile after the second):
    /// <see cref="WarmupConnections"/> connections opened, echoed through once and closed, as many at a time as the
    /// measurement opens; then half of <see cref="LoadOptions.WarmupBytes"/> through that many at once, which reaches
    /// what only a bulk transfer does (waits for a slow reader, the pipes' slow paths) when it is long enough. With one
    /// channel, once, both were still compiling during the first measurement (seen: 6.5 % of a 16-tunnel run's server
    /// CPU); with 16 tunnels, 2 GiB leaves nothing to compile during a 1 GiB measurement (docs/benchmarks.md).
    /// </summary>
    public static async Task WarmUpAsync(IEchoTarget target, LoadOptions options, CancellationToken cancellationToken)
    {
        if (options.WarmupBytes == 0) return;
        for (int pass = 0; pass < WarmupPasses; pass++)
        {
            for (int opened = 0; opened < WarmupConnections; opened += options.Tunnels)
                await EchoThroughFreshChannelsAsync(target, options, bytes: null, cancellationToken).ConfigureAwait(false);
            await EchoThroughFreshChannelsAsync(target, options, options.WarmupBytes / WarmupPasses, cancellationToken).ConfigureAwait(false);
        }
    }

    // Opens the measurement's channels (tunnels, or sessions times streams), echoes bytes through them (one chunk per
    // channel when null) and closes them.
    private static async Task EchoThroughFreshChannelsAsync(IEchoTarget target, LoadOptions options, long? bytes, CancellationToken cancellationToken)
    {
        var channels = await target.OpenChannelsAsync(options.Tunnels, cancellationToken).ConfigureAwait(false);
        try
        {
            long total = bytes ?? (long)channels.Count * options.ChunkSize;
            var outcome = await EchoRun.RunAsync(channels, total, options.ChunkSize, options.Verify, cancellationToken).ConfigureAwait(false);
            if (!outcome.Exact) throw new InvalidOperationException($"warm-up through {target.Label}: {outcome.Fault}");
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
