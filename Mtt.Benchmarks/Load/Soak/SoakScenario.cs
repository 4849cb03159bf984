using Mtt.Tests.Support;
using System.Diagnostics;

namespace Mtt.Benchmarks.Load.Soak;

/// <summary>
/// `load soak --tls-engine E --duration 20m`: the TLS port under hostile clients of every <see cref="HostileKind"/>,
/// `openssl s_client` renegotiation and KeyUpdate storms and handshake bursts over -max-handshakes, while valid
/// tunnels and smux sessions churn and echo byte-exact. Watches that the server stays up, that its RSS and
/// descriptors stay bounded and return once the clients are gone, and that it logs no WARN or ERROR line.
/// Exit 0 only when all of that held and no valid client failed.
/// </summary>
internal static class SoakScenario
{
    public const string Mode = "soak";

    private const int MaxHandshakes = 4;
    private const int Burst = 24;
    private static readonly TimeSpan CloseBound = TimeSpan.FromSeconds(40);
    private static readonly TimeSpan SamplePeriod = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan DrainBound = TimeSpan.FromSeconds(60);
    // Descriptors the runtime may open or keep after the clients leave (epoll, eventfd, a pooled socket).
    private const int FdSlack = 8;

    public static async Task<int> RunAsync(LoadOptions options, CancellationToken cancel)
    {
        var duration = options.Duration ?? TimeSpan.FromMinutes(20);
        options.ServerArguments.Add($"-max-handshakes={MaxHandshakes}");
        var smuxOptions = LoadOptions.Parse("soak", ["--smux", "--server", options.ServerPath]);
        await using var backend = new EchoBackend();
        var server = await TunnelServerTarget.StartAsync(options, tls: true, backend, cancel).ConfigureAwait(false);
        var tally = new SoakTally();
        var samples = new List<string>();
        int exit = 0;
        try
        {
            using var smux = new TunnelClients(new Uri($"wss://127.0.0.1:{server.TunnelPort}{TunnelServerTarget.UserPath}"), options.ChunkSize, smuxOptions);
            byte[] hello = await Mtt.Tests.Support.CapturedClientHello.CaptureAsync().ConfigureAwait(false);
            int pid = server.Process.Pid;
            Progress.Write($"soak of {duration} against mtt-mu-server pid {pid} ({string.Join(' ', options.ServerArguments)}), {options.Concurrency} hostile workers");
            // Settle first, so the descriptor baseline holds the runtime's own descriptors, not a cold start's.
            await SoakValidClients.WarmAsync(server.Clients, smux, cancel).ConfigureAwait(false);
            int fdsBefore = ProcFs.CountOpenFiles(pid);
            int connectionFdsBefore = ConnectionFds(pid);
            string fdKindsBefore = FdKinds(pid);
            long rssBefore = ProcFs.ReadRssKiB(pid);

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            var clients = new List<Task>
            {
                SoakValidClients.EchoLoopAsync(server.Clients, "tunnel", tally, 1, stop.Token),
                SoakValidClients.EchoLoopAsync(server.Clients, "tunnel", tally, 2, stop.Token),
                SoakValidClients.EchoLoopAsync(smux, "smux", tally, 3, stop.Token),
                SoakValidClients.EchoLoopAsync(smux, "smux", tally, 4, stop.Token),
                SoakValidClients.BurstLoopAsync(server.Clients, Burst, tally, 5, stop.Token),
                CliLoopAsync(server.TunnelPort, renegotiate: true, tally, stop.Token),
                CliLoopAsync(server.TunnelPort, renegotiate: false, tally, stop.Token),
            };
            for (int i = 0; i < options.Concurrency; i++) clients.Add(HostileLoopAsync(server.TunnelPort, hello, tally, 100 + i, stop.Token));

            var clock = Stopwatch.StartNew();
            var soakTime = TimeSpan.Zero;
            long rssMax = rssBefore;
            int fdsMax = fdsBefore;
            while (clock.Elapsed < duration && !server.Process.ExitCode.HasValue)
            {
                await Task.Delay(SamplePeriod, cancel).ConfigureAwait(false);
                if (server.Process.ExitCode.HasValue) break;
                long rss = ProcFs.ReadRssKiB(pid);
                int fds = ProcFs.CountOpenFiles(pid);
                rssMax = Math.Max(rssMax, rss);
                fdsMax = Math.Max(fdsMax, fds);
                string line = $"{clock.Elapsed:mm\\:ss} rss {rss / 1024} MiB, fds {fds}, echoed {tally.EchoedBytes >> 20} MiB, valid failed {tally.FaultCount}, " +
                    $"hostile {tally.Get("hostile closed")} closed / {tally.Get("hostile lingered")} lingered, warn {WarnLines(server).Count}, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}";
                samples.Add(line);
                if (samples.Count % 6 == 1) Progress.Write(line);
            }
            soakTime = clock.Elapsed;
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(clients).ConfigureAwait(false);

            bool alive = !server.Process.ExitCode.HasValue;
            int connectionFdsAfter = alive ? await DrainedFdsAsync(pid, connectionFdsBefore, cancel).ConfigureAwait(false) : -1;
            int fdsAfter = alive ? ProcFs.CountOpenFiles(pid) : -1;
            long rssAfter = alive ? ProcFs.ReadRssKiB(pid) : -1;
            var warns = WarnLines(server);

            Console.Out.WriteLine($"soak: {options.TlsEngine}, {soakTime.TotalMinutes:F1} min, {options.Concurrency} hostile workers, -max-handshakes={MaxHandshakes}");
            Console.Out.WriteLine($"server alive: {alive}{(alive ? "" : $" (exit {server.Process.ExitCode})")}");
            Console.Out.WriteLine($"RSS: before {rssBefore / 1024} MiB, max {rssMax / 1024} MiB, after {rssAfter / 1024} MiB");
            Console.Out.WriteLine($"descriptors: before {fdsBefore} ({fdKindsBefore}), max {fdsMax}, after {fdsAfter} ({(alive ? FdKinds(pid) : "")})");
            Console.Out.WriteLine($"descriptors other than files (sockets, pipes, epoll): before {connectionFdsBefore}, after {connectionFdsAfter}");
            Console.Out.WriteLine($"echoed byte-exact: {tally.EchoedBytes >> 20} MiB");
            foreach (var (what, count) in tally.Counts) Console.Out.WriteLine($"  {what}: {count}");
            foreach (string fault in tally.Faults) Console.Out.WriteLine($"  valid fault: {fault}");
            Console.Out.WriteLine($"WARN/ERROR lines: {warns.Count}");
            foreach (string warn in warns.Take(10)) Console.Out.WriteLine($"  {warn}");
            foreach (string sample in samples) Console.Out.WriteLine($"  sample {sample}");
            if (!alive || tally.FaultCount > 0 || warns.Count > 0 || connectionFdsAfter > connectionFdsBefore + FdSlack) exit = 1;
        }
        finally
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }
        return exit;
    }

    private static List<string> WarnLines(TunnelServerTarget server) =>
        server.Process.Lines.Where(l => l.Contains("WARN", StringComparison.Ordinal) || l.Contains("ERROR", StringComparison.Ordinal) || l.Contains("Unhandled", StringComparison.Ordinal)).ToList();

    /// <summary>
    /// Descriptors that are not files: the runtime opens assembly files as code paths first run (the hostile paths
    /// load more of the crypto stack), so only sockets, pipes and epoll say whether connections were given back.
    /// </summary>
    private static int ConnectionFds(int pid) => Directory.GetFiles($"/proc/{pid}/fd").Count(fd =>
    {
        try { return new FileInfo(fd).LinkTarget is { } target && !target.StartsWith('/'); }
        catch (IOException) { return false; }
    });

    /// <summary>The server's descriptors by kind (socket, pipe, anon_inode:[eventpoll], file), for a count that did not return.</summary>
    private static string FdKinds(int pid)
    {
        var kinds = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (string fd in Directory.GetFiles($"/proc/{pid}/fd"))
        {
            string target;
            try { target = new FileInfo(fd).LinkTarget ?? "?"; }
            catch (IOException) { continue; }
            string kind = target.StartsWith('/') ? "file" : target.Split(':')[0] is "anon_inode" ? target : target.Split(':')[0];
            kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
        }
        return string.Join(", ", kinds.Select(k => $"{k.Key} {k.Value}"));
    }

    /// <summary>The server's descriptors once its connections have ended: polled, since the server is another process.</summary>
    private static async Task<int> DrainedFdsAsync(int pid, int before, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        int fds = ConnectionFds(pid);
        while (fds > before && clock.Elapsed < DrainBound)
        {
            await Task.Delay(500, cancel).ConfigureAwait(false);
            fds = ConnectionFds(pid);
        }
        return fds;
    }

    private static async Task HostileLoopAsync(int port, byte[] hello, SoakTally tally, int seed, CancellationToken stop)
    {
        var random = new Random(seed);
        var kinds = Enum.GetValues<HostileKind>();
        while (!stop.IsCancellationRequested)
        {
            var kind = kinds[random.Next(kinds.Length)];
            try
            {
                var (outcome, detail) = await HostileClient.RunAsync(port, kind, hello, random, CloseBound, stop).ConfigureAwait(false);
                tally.Add($"hostile {outcome.ToString().ToLowerInvariant()}");
                if (outcome == HostileClient.Outcome.Lingered) tally.Add($"hostile lingered: {detail}");
                tally.Add($"hostile {kind}");
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { return; }
            catch (Exception e) when (!stop.IsCancellationRequested)
            {
                tally.Add($"hostile connect failed ({e.GetType().Name})");
            }
        }
    }

    private static async Task CliLoopAsync(int port, bool renegotiate, SoakTally tally, CancellationToken stop)
    {
        string name = renegotiate ? "s_client TLS 1.2 renegotiation" : "s_client TLS 1.3 KeyUpdate storm";
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var (outcome, done) = await OpenSslClientAttack.RunAsync(port, renegotiate, renegotiate ? 5 : 50, stop).ConfigureAwait(false);
                tally.Add($"{name}: {outcome.ToString().ToLowerInvariant()}");
                tally.Add($"{name}: commands sent", done);
            }
            catch (Exception) when (stop.IsCancellationRequested) { return; }
        }
    }
}
