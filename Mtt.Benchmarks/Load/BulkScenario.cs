using Mtt.Tests.Support;

namespace Mtt.Benchmarks.Load;

/// <summary>`bulk`: the server alone; `floor`: the server and the floor relays, measured in turns in one session.</summary>
internal static class BulkScenario
{
    public static async Task<List<BulkMeasurement>> RunAsync(LoadOptions options, bool withFloor, LoadReport report, CancellationToken cancellationToken)
    {
        await using var backend = new EchoBackend();
        var targets = new List<IEchoTarget>();
        var results = new List<BulkMeasurement>();
        try
        {
            bool[] tlsModes = withFloor ? (options.TlsOnly ? [true] : [false, true]) : [!options.Plain];
            foreach (bool tls in tlsModes)
            {
                Progress.Write($"starting mtt-mu-server ({(tls ? "TLS" : "plain")})");
                targets.Add(await TunnelServerTarget.StartAsync(options, tls, backend, cancellationToken).ConfigureAwait(false));
                if (options.Anchor)
                {
                    Progress.Write($"building and starting the Go anchor ({(tls ? "TLS" : "plain")})");
                    targets.Add(await GoAnchorTarget.StartTunnelAsync(options, tls, backend, cancellationToken).ConfigureAwait(false));
                }
                if (!withFloor) continue;
                Progress.Write($"starting relay-floor ({(tls ? "TLS" : "plain")})");
                targets.Add(await RelayFloorTarget.StartAsync(tls, backend, options.TlsEngine == Mtt.Core.Transport.TlsEngine.OpenSsl).ConfigureAwait(false));
                if (options.Anchor) targets.Add(await GoAnchorTarget.StartRelayAsync(tls, backend, cancellationToken).ConfigureAwait(false));
            }
            foreach (var target in targets)
            {
                Progress.Write($"warming up {target.Label} (pid {target.Process.Pid}) with {options.WarmupBytes / (1 << 20)} MiB");
                await BulkBench.WarmUpAsync(target, options, cancellationToken).ConfigureAwait(false);
            }
            if (options.WarmupBytes > 0) await SettleAfterWarmup.WaitAsync(targets.Select(t => t.Process), cancellationToken).ConfigureAwait(false);
            report.ServerOpenFilesLimit = ProcFs.ReadOpenFilesLimit(targets[0].Process.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));

            // Turns, not blocks: drift on a shared machine then spreads over every target alike.
            for (int run = 1; run <= options.Repeat; run++)
            {
                foreach (var target in targets)
                {
                    Progress.Write($"run {run}/{options.Repeat}: {target.Label}, {options.Tunnels} tunnel(s), {options.Bytes:N0} bytes");
                    var measurement = await BulkBench.MeasureAsync(target, options, run, cancellationToken).ConfigureAwait(false);
                    Progress.Write($"  {measurement.MegabytesPerSecond:F0} MB/s, {measurement.ServerCpuSecondsPerGigabyte:F2} CPU s/GB, exact: {measurement.Exact}");
                    results.Add(measurement);
                }
            }
        }
        finally
        {
            foreach (var target in targets)
            {
                await target.DisposeAsync().ConfigureAwait(false);
                report.AddLog(target.Process);
            }
        }
        return results;
    }
}
