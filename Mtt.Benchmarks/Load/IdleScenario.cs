using System.Diagnostics;
using Mtt.Core.Diagnostics;
using Mtt.Tests.Support;

namespace Mtt.Benchmarks.Load;

/// <summary>`idle`: the server's resident memory before, with and after N idle tunnels (or smux sessions with one open stream each).</summary>
internal static class IdleScenario
{
    // Connects in flight at once: enough to open 1000 tunnels in seconds, few enough not to overflow the accept queue.
    private const int ConnectParallelism = 32;

    // Lets the server finish what the last connect or close set off (timers, GC) before memory is read.
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);
    private const int SettleSamples = 5;

    // The server gives memory back once most of a peak of at least MemoryReturner.MinimumPeak connections has ended, and logs
    // this; "after closing" is read once that line has come. The server defers a trim within 30 s of the last
    // one (and waits for the closing to settle), so a wait for the line is bounded a little beyond that.
    private const string MemoryReturnedLine = "memory returned: ";
    private const string AllClosedTrim = "memory returned: 0 connections open";
    private static readonly TimeSpan MemoryReturnedWait = TimeSpan.FromSeconds(45);

    // Then a second malloc_trim once the thread pool has retired the threads it grew (MemoryReturner.PoolThreadsLimit at
    // the latest): "after closing" is read after it.
    private const string PoolThreadsTrimLine = "memory returned as pool threads ended: ";
    private static readonly TimeSpan PoolThreadsTrimWait = MemoryReturner.PoolThreadsLimit + TimeSpan.FromSeconds(15);
    private static readonly TimeSpan SampleGap = TimeSpan.FromMilliseconds(250);

    // The server tears a tunnel down when the client's close arrives; a few seconds covers 1000 on a busy machine.
    private static readonly TimeSpan TeardownTimeout = TimeSpan.FromSeconds(60);

    // Sockets the harness needs beyond its two per tunnel (client end and backend end).
    private const int SpareDescriptors = 256;

    // Descriptors the server may still hold after closing beyond its count before (a controller connection,
    // a log file reopened, a runtime pipe): more than this after every tunnel closed is a leak.
    private const int FdSlack = 8;

    // What the server holds besides its tunnels' two sockets each (runtime, listeners, controller): the
    // daemon caps -max-connections at (soft limit - 128) / 2 (DescriptorBudget), so N tunnels need 2 N + 128.
    private const int ServerReservedDescriptors = 128;

    public static async Task<IdleMeasurement> RunAsync(LoadOptions options, LoadReport report, CancellationToken cancellationToken)
    {
        int n = options.Connections;
        report.HarnessOpenFilesLimit = OpenFilesLimit.RaiseTo(Math.Max(2L * n + SpareDescriptors, 2L * n + ServerReservedDescriptors));
        // The server inherits the harness's soft limit and caps its connections to fit it: fail now, not at tunnel 9,937.
        long serverCapacity = (OpenFilesLimit.Current() - ServerReservedDescriptors) / 2;
        if (serverCapacity < n)
            throw new InvalidOperationException($"{n} tunnels need an open-files limit of {2L * n + ServerReservedDescriptors} for the server (2 per tunnel + {ServerReservedDescriptors}), " +
                $"the hard limit here allows {serverCapacity} tunnels (limit {report.HarnessOpenFilesLimit}); raise it (ulimit -Hn as root, LimitNOFILE) or use --connections {serverCapacity}");
        bool tls = !options.Plain;

        await using var backend = new EchoBackend();
        Progress.Write($"starting mtt-mu-server ({(tls ? "TLS" : "plain")})");
        var server = await TunnelServerTarget.StartAsync(options, tls, backend, cancellationToken).ConfigureAwait(false);
        var tunnels = new EchoChannel[n];
        string noun = options.Smux ? $"smux v{options.SmuxVersion} sessions (one stream each)" : options.StallInRecord ? "tunnels stalled inside a record" : "tunnels";
        try
        {
            int pid = server.Process.Pid;
            report.ServerOpenFilesLimit = ProcFs.ReadOpenFilesLimit(pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await using var rss = RssSampler.Start(pid);

            await WarmUpAsync(server, options.WarmupConnections, noun, options, cancellationToken).ConfigureAwait(false);
            await backend.WaitForActiveAtMostAsync(0, TeardownTimeout).ConfigureAwait(false);
            var (before, threadsBefore) = await SettledAsync(pid, options.SmapsDirectory, "before", cancellationToken).ConfigureAwait(false);
            int fdsBefore = ProcFs.CountOpenFiles(pid);
            Progress.Write($"before: RSS {before:N0} KiB, {threadsBefore} threads, {fdsBefore} fds; opening {n} idle {noun}");

            var openByCycle = new List<long>();
            var afterByCycle = new List<long>();
            var fdsOpenByCycle = new List<int>();
            var fdsAfterByCycle = new List<int>();
            double openSeconds = 0, closeSeconds = 0;
            long threadsOpen = 0, threadsAfter = 0;
            int dialled = 0;
            // Later cycles tell retained-but-reused memory (flat after each close) from a leak (growing).
            for (int cycle = 1; cycle <= options.Cycles; cycle++)
            {
                var clock = Stopwatch.StartNew();
                Array.Clear(tunnels);
                int acceptedBefore = backend.Accepted;
                await OpenAllAsync(server, tunnels, options.StallInRecord, cancellationToken).ConfigureAwait(false);
                // Every client has its 101; the server has also dialled every backend once they are all accepted here.
                // (with smux: every SYN reached the server and its stream dialled the backend).
                if (!await backend.WaitForActiveAtLeastAsync(n, TeardownTimeout).ConfigureAwait(false))
                    throw new TimeoutException($"the server dialled only {backend.Active} of {n} backends");
                double opened = clock.Elapsed.TotalSeconds;
                int dialledThisCycle = backend.Accepted - acceptedBefore;
                var (open, threadsWhenOpen) = await SettledAsync(pid, options.SmapsDirectory, $"open-{cycle}", cancellationToken).ConfigureAwait(false);
                int fdsOpen = ProcFs.CountOpenFiles(pid);
                Progress.Write($"cycle {cycle} open: {n} {noun} in {opened:F1} s, backend dialled {dialledThisCycle} times, RSS {open:N0} KiB, {threadsWhenOpen} threads, {fdsOpen} fds; closing them");
                if (options.Hold is { } hold)
                {
                    // Time to look inside the server with all open (dotnet-gcdump, /proc/<pid>/smaps).
                    Progress.Write($"holding them open for {hold.TotalSeconds:0} s (server pid {pid})");
                    await Task.Delay(hold, cancellationToken).ConfigureAwait(false);
                }

                clock.Restart();
                int trimsBefore = CountLines(server.Process, MemoryReturnedLine);
                await CloseAllAsync(tunnels, cancellationToken).ConfigureAwait(false);
                bool allClosed = await backend.WaitForActiveAtMostAsync(0, TeardownTimeout).ConfigureAwait(false);
                double closed = clock.Elapsed.TotalSeconds;
                if (n >= MemoryReturner.MinimumPeak)
                {
                    // A trim that ran while closes were still coming in (a busy machine) is followed by another, at most
                    // 30 s later, once the rest have closed: the figure after closing is the one after that.
                    string trim = await WaitForLineAsync(server.Process, MemoryReturnedLine, AllClosedTrim, trimsBefore, MemoryReturnedWait, cancellationToken).ConfigureAwait(false)
                        ?? $"no '{MemoryReturnedLine}' line from the server within {MemoryReturnedWait.TotalSeconds:0} s";
                    Progress.Write($"cycle {cycle} server: {trim}");
                    // The trim that logged that line logs its second one after it (an earlier trim's came before it).
                    int lateTrimsBefore = CountLines(server.Process, PoolThreadsTrimLine);
                    string late = await WaitForLineAsync(server.Process, PoolThreadsTrimLine, PoolThreadsTrimLine, lateTrimsBefore, PoolThreadsTrimWait, cancellationToken).ConfigureAwait(false)
                        ?? $"no '{PoolThreadsTrimLine}' line from the server within {PoolThreadsTrimWait.TotalSeconds:0} s";
                    Progress.Write($"cycle {cycle} server: {late}");
                }
                var (after, threadsWhenClosed) = await SettledAsync(pid, options.SmapsDirectory, $"after-{cycle}", cancellationToken).ConfigureAwait(false);
                int fdsAfter = ProcFs.CountOpenFiles(pid);
                Progress.Write($"cycle {cycle} after: closed in {closed:F1} s (server closed all backends: {allClosed}), RSS {after:N0} KiB, {threadsWhenClosed} threads, {fdsAfter} fds");
                if (options.HoldClosed is { } holdClosed)
                {
                    Progress.Write($"holding the server for {holdClosed.TotalSeconds:0} s with every connection closed (server pid {pid})");
                    await Task.Delay(holdClosed, cancellationToken).ConfigureAwait(false);
                }
                foreach (var tunnel in tunnels) await tunnel.DisposeAsync().ConfigureAwait(false);
                Array.Clear(tunnels);
                openByCycle.Add(open);
                afterByCycle.Add(after);
                fdsOpenByCycle.Add(fdsOpen);
                fdsAfterByCycle.Add(fdsAfter);
                if (cycle == 1)
                {
                    (openSeconds, closeSeconds, threadsOpen, threadsAfter, dialled) = (opened, closed, threadsWhenOpen, threadsWhenClosed, dialledThisCycle);
                }
            }
            await rss.StopAsync().ConfigureAwait(false);
            server.Process.ThrowIfExited();

            return new IdleMeasurement(n, tls, options.Smux ? options.SmuxVersion : 0, dialled, openSeconds, before, openByCycle[0], afterByCycle[0], rss.MaxKiB,
                (double)(openByCycle[0] - before) / n, (double)afterByCycle[0] / before, threadsBefore, threadsOpen, threadsAfter, closeSeconds, backend.Active,
                openByCycle, afterByCycle, fdsBefore, fdsOpenByCycle, fdsAfterByCycle, FdSlack, options.WarmupConnections);
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

    /// <summary>
    /// "Before" is a server that has served traffic, not one fresh from its start: <paramref name="count"/> tunnels (or
    /// sessions), one after another (never two open at once, so no thread or buffer is grown for a crowd), each opened,
    /// echoed through and closed. The JIT compiles a method again, optimised, once it has run 30 times, so a server that has
    /// served one connection still compiles the per-connection path (handshake, upgrade, route, dial) during the first crowd:
    /// 2.3–2.9 MiB of code that an operator's server, which has served hundreds, holds already (docs/benchmarks.md,
    /// "RSS after close: runtime settings"). --warmup-connections 1 is the one tunnel of earlier figures.
    /// </summary>
    private static async Task WarmUpAsync(TunnelServerTarget server, int count, string noun, LoadOptions options, CancellationToken cancellationToken)
    {
        Progress.Write($"warm-up: {count} {noun} opened, echoed through and closed, one after another");
        for (int i = 0; i < count; i++)
        {
            await using var warm = await server.OpenAsync(cancellationToken).ConfigureAwait(false);
            // The first carries the bulk path's warm-up (1 MiB); the others one chunk each.
            long bytes = i == 0 ? 1 << 20 : options.ChunkSize;
            var outcome = await EchoRun.RunAsync([warm], bytes, options.ChunkSize, options.Verify, cancellationToken).ConfigureAwait(false);
            if (!outcome.Exact) throw new InvalidOperationException($"warm-up echo {i + 1}: {outcome.Fault}");
            await warm.CloseAsync().ConfigureAwait(false);
        }
    }

    private static async Task OpenAllAsync(TunnelServerTarget server, EchoChannel[] tunnels, bool stallInRecord, CancellationToken cancellationToken)
    {
        using var gate = new SemaphoreSlim(ConnectParallelism);
        var opens = new Task[tunnels.Length];
        for (int i = 0; i < tunnels.Length; i++)
        {
            int index = i;
            opens[i] = Task.Run(async () =>
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    tunnels[index] = stallInRecord
                        ? await StalledTunnelChannel.OpenAsync(server.TunnelPort, cancellationToken).ConfigureAwait(false)
                        : await server.OpenIdleAsync(cancellationToken).ConfigureAwait(false);
                }
                finally { gate.Release(); }
            }, cancellationToken);
        }
        await Task.WhenAll(opens).ConfigureAwait(false);
    }

    /// <summary>A close handshake on every tunnel (smux: a FIN on the stream, then the session's close handshake), as a well-behaved client ends one.</summary>
    private static async Task CloseAllAsync(EchoChannel[] tunnels, CancellationToken cancellationToken)
    {
        using var gate = new SemaphoreSlim(ConnectParallelism * 2);
        var closes = new Task[tunnels.Length];
        for (int i = 0; i < tunnels.Length; i++)
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

    private static int CountLines(ChildProcess process, string text)
    {
        int count = 0;
        foreach (string line in process.Lines)
        {
            if (line.Contains(text, StringComparison.Ordinal)) count++;
        }
        return count;
    }

    /// <summary>
    /// The last line holding <paramref name="text"/> once there are more than <paramref name="seenBefore"/> and the last
    /// of them also holds <paramref name="final"/>; after <paramref name="timeout"/>, the last new one, or null.
    /// </summary>
    private static async Task<string?> WaitForLineAsync(ChildProcess process, string text, string final, int seenBefore, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            string? last = null;
            foreach (string line in process.Lines)
            {
                if (line.Contains(text, StringComparison.Ordinal)) last = line;
            }
            bool seen = CountLines(process, text) > seenBefore;
            if (seen && last!.Contains(final, StringComparison.Ordinal)) return last;
            if (DateTime.UtcNow >= deadline) return seen ? last : null;
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits <see cref="Settle"/>, then the least RSS of a few samples (a transient buffer is not the steady state) and the thread count;
    /// with <paramref name="smapsDirectory"/>, a copy of the server's smaps named <paramref name="label"/>.</summary>
    private static async Task<(long RssKiB, long Threads)> SettledAsync(int pid, string? smapsDirectory, string label, CancellationToken cancellationToken)
    {
        await Task.Delay(Settle, cancellationToken).ConfigureAwait(false);
        long least = long.MaxValue;
        for (int i = 0; i < SettleSamples; i++)
        {
            if (i > 0) await Task.Delay(SampleGap, cancellationToken).ConfigureAwait(false);
            least = Math.Min(least, ProcFs.ReadRssKiB(pid));
        }
        if (smapsDirectory is not null)
        {
            Directory.CreateDirectory(smapsDirectory);
            // /proc files report a size of 0, so read them rather than copy them.
            File.WriteAllText(Path.Combine(smapsDirectory, label + ".smaps"), File.ReadAllText($"/proc/{pid}/smaps"));
        }
        return (least, ProcFs.ReadStatusNumber(pid, "Threads:"));
    }
}
