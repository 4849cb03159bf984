using System.Diagnostics;
using System.Globalization;
using Mtt.Tests.Support;

namespace Mtt.Benchmarks.Load;

/// <summary>
/// `latency`: round-trip times of small messages through a tunnel, the relay floor and a smux stream (one
/// session per connection), all of the same TLS mode, in interleaved turns; one server serves both kinds of
/// tunnel. Every sample of a target is kept, so its percentiles over all runs are exact.
/// </summary>
internal static class LatencyScenario
{
    // Round trips per connection through each target before measuring, so the hot paths are jitted.
    private const int WarmupRoundTrips = 1000;

    // A run that has not finished by then has hung; better a failure than a harness that waits forever.
    private static readonly TimeSpan MeasurementTimeout = TimeSpan.FromMinutes(10);

    // Sockets the harness needs beyond its two per connection (client end and backend end).
    private const int SpareDescriptors = 256;

    public static async Task<List<LatencyMeasurement>> RunAsync(LoadOptions options, LoadReport report, CancellationToken cancellationToken)
    {
        int n = options.Connections, m = options.RoundTrips;
        report.HarnessOpenFilesLimit = OpenFilesLimit.RaiseTo(2L * n + SpareDescriptors);
        bool tls = !options.Plain;
        await using var backend = new EchoBackend();
        var processes = new List<IEchoTarget>();
        var results = new List<LatencyMeasurement>();
        try
        {
            Progress.Write($"starting mtt-mu-server ({(tls ? "TLS" : "plain")})");
            var server = await TunnelServerTarget.StartAsync(options, tls, backend, cancellationToken).ConfigureAwait(false);
            processes.Add(server);
            Progress.Write($"starting relay-floor ({(tls ? "TLS" : "plain")})");
            var relay = await RelayFloorTarget.StartAsync(tls, backend, options.TlsEngine == Mtt.Core.Transport.TlsEngine.OpenSsl).ConfigureAwait(false);
            processes.Add(relay);
            report.ServerOpenFilesLimit = ProcFs.ReadOpenFilesLimit(server.Process.Pid.ToString(CultureInfo.InvariantCulture));
            LeanTarget[] targets = [LeanTarget.Tunnel(server), LeanTarget.Floor(relay), LeanTarget.Smux(server, options.SmuxVersion)];

            var warmupSamples = new long[n * Math.Min(m, WarmupRoundTrips)];
            foreach (var target in targets)
            {
                Progress.Write($"warming up {target.Label} (pid {target.Process.Pid}): {n} connections, {Math.Min(m, WarmupRoundTrips)} round trips each");
                var (_, fault) = await MeasureAsync(target, options, warmupSamples, 0, Math.Min(m, WarmupRoundTrips), cancellationToken).ConfigureAwait(false);
                if (fault is not null) throw new InvalidOperationException($"warm-up through {target.Label}: {fault}");
            }
            await SettleAfterWarmup.WaitAsync(processes.Select(p => p.Process), cancellationToken).ConfigureAwait(false);

            // Every sample of every run, per target: percentiles over all runs come from these.
            var samples = new long[targets.Length][];
            for (int t = 0; t < targets.Length; t++) samples[t] = new long[(long)options.Repeat * n * m];
            var self = Process.GetCurrentProcess();
            for (int run = 1; run <= options.Repeat; run++)
            {
                for (int t = 0; t < targets.Length; t++)
                {
                    var target = targets[t];
                    Progress.Write($"run {run}/{options.Repeat}: {target.Label}, {n} connections × {m} round trips of {options.MessageSize} bytes{(options.Rate is { } r ? $" at {r:N0}/s" : "")}");
                    int offset = (run - 1) * n * m;
                    int pid = target.Process.Pid;
                    double serverCpuBefore = ProcFs.ReadCpuSeconds(pid);
                    self.Refresh();
                    var clientCpuBefore = self.TotalProcessorTime;
                    var (seconds, fault) = await MeasureAsync(target, options, samples[t], offset, m, cancellationToken).ConfigureAwait(false);
                    double serverCpu = ProcFs.ReadCpuSeconds(pid) - serverCpuBefore;
                    self.Refresh();
                    double clientCpu = (self.TotalProcessorTime - clientCpuBefore).TotalSeconds;
                    target.Process.ThrowIfExited();

                    var runSamples = samples[t].AsSpan(offset, n * m);
                    runSamples.Sort();
                    long roundTrips = (long)n * m;
                    var measurement = new LatencyMeasurement(target.Label, target.Kind, target.Tls, target.SmuxVersion, run, n, m, options.MessageSize, options.Rate,
                        seconds, roundTrips / seconds, LatencyPercentiles.FromSorted(runSamples), serverCpu, serverCpu * 1e6 / roundTrips, clientCpu, fault is null, fault);
                    var p = measurement.Microseconds;
                    Progress.Write($"  {measurement.RoundTripsPerSecond:F0} round trips/s; µs p50 {p.P50:F0}, p90 {p.P90:F0}, p99 {p.P99:F0}, p99.9 {p.P999:F0}, max {p.Max:F0}; exact: {measurement.Exact}");
                    results.Add(measurement);
                }
            }
            for (int t = 0; t < targets.Length; t++) Array.Sort(samples[t]);
            report.LatencySummary.AddRange(LatencyReportSection.Summarise(results, targets, samples));
        }
        finally
        {
            foreach (var process in processes)
            {
                await process.DisposeAsync().ConfigureAwait(false);
                report.AddLog(process.Process);
            }
        }
        return results;
    }

    /// <summary>Opens the connections (not timed), runs the round trips, closes them.</summary>
    private static async Task<(double Seconds, string? Fault)> MeasureAsync(LeanTarget target, LoadOptions options, long[] samples, int offset, int roundTrips, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(MeasurementTimeout);
        var channels = new List<EchoChannel>(options.Connections);
        try
        {
            for (int i = 0; i < options.Connections; i++) channels.Add(await target.Open(timeout.Token).ConfigureAwait(false));
            return await LatencyRun.RunAsync(channels, samples, offset, roundTrips, options.MessageSize, options.Rate, timeout.Token).ConfigureAwait(false);
        }
        finally
        {
            foreach (var channel in channels)
            {
                try
                {
                    await channel.CloseAsync().ConfigureAwait(false);
                }
                catch (IOException e)
                {
                    Progress.Write($"  closing a {target.Label} connection: {e.Message}");
                }
                await channel.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
