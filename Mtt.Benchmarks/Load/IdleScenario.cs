using System.Diagnostics;

namespace Mtt.Benchmarks.Load;

/// <summary>`idle`: the server's resident memory before, with and after N idle tunnels.</summary>
internal static class IdleScenario
{
    // Connects in flight at once: enough to open 1000 tunnels in seconds, few enough not to overflow the accept queue.
    private const int ConnectParallelism = 32;

    // Lets the server finish what the last connect or close set off (timers, GC) before memory is read.
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);
    private const int SettleSamples = 5;
    private static readonly TimeSpan SampleGap = TimeSpan.FromMilliseconds(250);

    // The server tears a tunnel down when the client's close arrives; a few seconds covers 1000 on a busy machine.
    private static readonly TimeSpan TeardownTimeout = TimeSpan.FromSeconds(60);

    // Sockets the harness needs beyond its two per tunnel (client end and backend end).
    private const int SpareDescriptors = 256;

    public static async Task<IdleMeasurement> RunAsync(LoadOptions options, LoadReport report, CancellationToken cancellationToken)
    {
        int n = options.Connections;
        report.HarnessOpenFilesLimit = OpenFilesLimit.RaiseTo(2L * n + SpareDescriptors);
        bool tls = !options.Plain;

        await using var backend = new EchoBackend();
        Progress.Write($"starting mtt-mu-server ({(tls ? "TLS" : "plain")})");
        var server = await TunnelServerTarget.StartAsync(options, tls, backend, cancellationToken).ConfigureAwait(false);
        var tunnels = new WebSocketEchoChannel[n];
        try
        {
            int pid = server.Process.Pid;
            report.ServerOpenFilesLimit = ProcFs.ReadOpenFilesLimit(pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await using var rss = RssSampler.Start(pid);

            Progress.Write("warm-up: one tunnel opened, echoed through, closed");
            await using (var warm = await server.OpenAsync(cancellationToken).ConfigureAwait(false))
            {
                var outcome = await EchoRun.RunAsync([warm], 1 << 20, options.ChunkSize, options.Verify, cancellationToken).ConfigureAwait(false);
                if (!outcome.Exact) throw new InvalidOperationException($"warm-up echo: {outcome.Fault}");
                await warm.CloseAsync().ConfigureAwait(false);
            }
            await backend.WaitForActiveAtMostAsync(0, TeardownTimeout).ConfigureAwait(false);
            var (before, threadsBefore) = await SettledAsync(pid, cancellationToken).ConfigureAwait(false);
            Progress.Write($"before: RSS {before:N0} KiB, {threadsBefore} threads; opening {n} idle tunnels");

            var clock = Stopwatch.StartNew();
            using (var gate = new SemaphoreSlim(ConnectParallelism))
            {
                var opens = new Task[n];
                for (int i = 0; i < n; i++)
                {
                    int index = i;
                    opens[i] = Task.Run(async () =>
                    {
                        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                        try { tunnels[index] = await server.OpenIdleAsync(cancellationToken).ConfigureAwait(false); }
                        finally { gate.Release(); }
                    }, cancellationToken);
                }
                await Task.WhenAll(opens).ConfigureAwait(false);
            }
            // Every client has its 101; the server has also dialled every backend once they are all accepted here.
            await WaitForActiveAtLeastAsync(backend, n, TeardownTimeout).ConfigureAwait(false);
            double openSeconds = clock.Elapsed.TotalSeconds;
            var (open, threadsOpen) = await SettledAsync(pid, cancellationToken).ConfigureAwait(false);
            Progress.Write($"open: {n} tunnels in {openSeconds:F1} s, RSS {open:N0} KiB, {threadsOpen} threads; closing them");

            clock.Restart();
            using (var gate = new SemaphoreSlim(ConnectParallelism * 2))
            {
                var closes = new Task[n];
                for (int i = 0; i < n; i++)
                {
                    var tunnel = tunnels[i];
                    closes[i] = Task.Run(async () =>
                    {
                        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                        try { await tunnel.CloseAsync().ConfigureAwait(false); }
                        finally { gate.Release(); }
                    }, cancellationToken);
                }
                await Task.WhenAll(closes).ConfigureAwait(false);
            }
            bool allClosed = await backend.WaitForActiveAtMostAsync(0, TeardownTimeout).ConfigureAwait(false);
            double closeSeconds = clock.Elapsed.TotalSeconds;
            var (after, threadsAfter) = await SettledAsync(pid, cancellationToken).ConfigureAwait(false);
            Progress.Write($"after: closed in {closeSeconds:F1} s (server closed all backends: {allClosed}), RSS {after:N0} KiB, {threadsAfter} threads");
            await rss.StopAsync().ConfigureAwait(false);
            server.Process.ThrowIfExited();

            return new IdleMeasurement(n, tls, openSeconds, before, open, after, rss.MaxKiB,
                (double)(open - before) / n, (double)after / before, threadsBefore, threadsOpen, threadsAfter, closeSeconds, backend.Active);
        }
        finally
        {
            foreach (var tunnel in tunnels)
            {
                if (tunnel is not null) await tunnel.DisposeAsync().ConfigureAwait(false);
            }
            await server.DisposeAsync().ConfigureAwait(false);
            report.AddLog(server.Process);
        }
    }

    /// <summary>Waits <see cref="Settle"/>, then the least RSS of a few samples (a transient buffer is not the steady state) and the thread count.</summary>
    private static async Task<(long RssKiB, long Threads)> SettledAsync(int pid, CancellationToken cancellationToken)
    {
        await Task.Delay(Settle, cancellationToken).ConfigureAwait(false);
        long least = long.MaxValue;
        for (int i = 0; i < SettleSamples; i++)
        {
            if (i > 0) await Task.Delay(SampleGap, cancellationToken).ConfigureAwait(false);
            least = Math.Min(least, ProcFs.ReadRssKiB(pid));
        }
        return (least, ProcFs.ReadStatusNumber(pid, "Threads:"));
    }

    private static async Task WaitForActiveAtLeastAsync(EchoBackend backend, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (backend.Active < count)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the server dialled only {backend.Active} of {count} backends");
            await Task.Delay(50).ConfigureAwait(false);
        }
    }
}
