using System.Diagnostics;
using System.Globalization;
using Mtt.Tests.Support;

namespace Mtt.Benchmarks.Load;

/// <summary>
/// `churn`: connections made, used once and closed, as fast as --concurrency workers go, through the server
/// (tunnels, or smux sessions of one stream) and through the relay floor of the same TLS mode, in turns.
/// </summary>
internal static class ChurnScenario
{
    // The server closes each backend as its tunnel ends; a few seconds covers a burst on a busy machine.
    private static readonly TimeSpan TeardownTimeout = TimeSpan.FromSeconds(60);

    // Sockets the harness needs beyond the two per worker (client end and backend end).
    private const int SpareDescriptors = 256;

    public static async Task<List<ChurnMeasurement>> RunAsync(LoadOptions options, LoadReport report, CancellationToken cancellationToken)
    {
        report.HarnessOpenFilesLimit = OpenFilesLimit.RaiseTo(2L * options.Concurrency + SpareDescriptors);
        bool tls = !options.Plain;
        await using var backend = new EchoBackend();
        var processes = new List<IEchoTarget>();
        var targets = new List<LeanTarget>();
        var results = new List<ChurnMeasurement>();
        try
        {
            Progress.Write($"starting mtt-mu-server ({(tls ? "TLS" : "plain")})");
            var server = await TunnelServerTarget.StartAsync(options, tls, backend, cancellationToken).ConfigureAwait(false);
            processes.Add(server);
            targets.Add(options.Smux ? LeanTarget.Smux(server, options.SmuxVersion) : LeanTarget.Tunnel(server));
            if (options.Anchor)
            {
                Progress.Write($"building and starting the Go anchor ({(tls ? "TLS" : "plain")})");
                var anchor = await GoAnchorTarget.StartTunnelAsync(options, tls, backend, cancellationToken).ConfigureAwait(false);
                processes.Add(anchor);
                targets.Add(LeanTarget.Go(anchor, options.Smux ? options.SmuxVersion : (byte)0));
            }
            if (!options.NoFloor)
            {
                Progress.Write($"starting relay-floor ({(tls ? "TLS" : "plain")})");
                var relay = await RelayFloorTarget.StartAsync(tls, backend, options.TlsEngine == Mtt.Core.Transport.TlsEngine.OpenSsl).ConfigureAwait(false);
                processes.Add(relay);
                targets.Add(LeanTarget.Floor(relay));
                if (options.Anchor)
                {
                    var goRelay = await GoAnchorTarget.StartRelayAsync(tls, backend, cancellationToken).ConfigureAwait(false);
                    processes.Add(goRelay);
                    targets.Add(LeanTarget.Floor(goRelay));
                }
            }
            report.ServerOpenFilesLimit = ProcFs.ReadOpenFilesLimit(server.Process.Pid.ToString(CultureInfo.InvariantCulture));

            foreach (var target in targets)
            {
                if (options.WarmupConnections == 0) break;
                Progress.Write($"warming up {target.Label} (pid {target.Process.Pid}) with {options.WarmupConnections} connections");
                var warm = await ChurnRun.RunAsync(target, options.Concurrency, options.WarmupConnections, null, options.MessageSize, cancellationToken).ConfigureAwait(false);
                if (warm.Failed > 0) throw new InvalidOperationException($"warm-up through {target.Label}: {warm.Failed} connections failed, first: {warm.FirstFault}");
                await backend.WaitForActiveAtMostAsync(0, TeardownTimeout).ConfigureAwait(false);
            }
            await SettleAfterWarmup.WaitAsync(processes.Select(p => p.Process), cancellationToken).ConfigureAwait(false);

            // Turns, not blocks: drift on a shared machine then spreads over every target alike.
            string amount = options.Duration is { } d ? $"for {d.TotalSeconds:0.#} s" : $"{options.Connections:N0} connections";
            for (int run = 1; run <= options.Repeat; run++)
            {
                foreach (var target in targets)
                {
                    Progress.Write($"run {run}/{options.Repeat}: {target.Label}, {amount}, {options.Concurrency} at once");
                    var m = await MeasureAsync(target, backend, options, run, cancellationToken).ConfigureAwait(false);
                    Progress.Write($"  {m.ConnectionsPerSecond:F0} connections/s, {m.ServerCpuSecondsPerThousand:F3} CPU s per 1,000, failed {m.Failed}{(m.FirstFault is null ? "" : $" ({m.FirstFault})")}, " +
                        $"backend dialled {m.BackendDials}, RSS {m.RssBeforeKiB:N0} → max {m.RssMaxKiB:N0} → settled {m.RssAfterKiB:N0} KiB");
                    results.Add(m);
                }
            }
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

    private static async Task<ChurnMeasurement> MeasureAsync(LeanTarget target, EchoBackend backend, LoadOptions options, int run, CancellationToken cancellationToken)
    {
        int pid = target.Process.Pid;
        long before = await SettledRss.ReadAsync(pid, cancellationToken).ConfigureAwait(false);
        var self = Process.GetCurrentProcess();
        int acceptedBefore = backend.Accepted;
        double serverCpuBefore = ProcFs.ReadCpuSeconds(pid);
        var clientCpuBefore = self.TotalProcessorTime;
        await using var rss = RssSampler.Start(pid);

        var outcome = await ChurnRun.RunAsync(target, options.Concurrency, options.Connections, options.Duration, options.MessageSize, cancellationToken).ConfigureAwait(false);

        double serverCpu = ProcFs.ReadCpuSeconds(pid) - serverCpuBefore;
        self.Refresh();
        double clientCpu = (self.TotalProcessorTime - clientCpuBefore).TotalSeconds;
        await rss.StopAsync().ConfigureAwait(false);
        target.Process.ThrowIfExited();
        int dials = backend.Accepted - acceptedBefore;
        if (!await backend.WaitForActiveAtMostAsync(0, TeardownTimeout).ConfigureAwait(false))
            Progress.Write($"  {backend.Active} backend connections still open {TeardownTimeout.TotalSeconds:0} s after the churn");
        long after = await SettledRss.ReadAsync(pid, cancellationToken).ConfigureAwait(false);

        int n = Math.Max(outcome.Completed, 1);
        return new ChurnMeasurement(
            target.Label, target.Kind, target.Tls, target.SmuxVersion, run, options.Concurrency, options.MessageSize, outcome.Completed, outcome.Failed, outcome.FirstFault,
            outcome.Seconds, outcome.Completed / outcome.Seconds, serverCpu, serverCpu / n * 1000, clientCpu, dials,
            before, Math.Max(rss.MaxKiB, before), rss.EndKiB, after,
            NearestRank.Microseconds(NearestRank.Of(outcome.ConnectionTicks, 0.50)) / 1000,
            NearestRank.Microseconds(NearestRank.Of(outcome.ConnectionTicks, 0.99)) / 1000);
    }
}
