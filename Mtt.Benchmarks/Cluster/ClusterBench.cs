using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Mtt.Benchmarks.Load;
using Mtt.Tests.Support;

namespace Mtt.Benchmarks.Cluster;

/// <summary>
/// <c>cluster</c>: the figures of docs/benchmarks.md for <c>-redis</c>, on a real redis-server and real daemon
/// processes: the time from a POST on instance A until a new client is served on C (p50/p99), controller changes
/// per second with and without Redis (rounds interleaved), and the resync time of 40,000 users into a joining instance.
/// </summary>
internal static partial class ClusterBench
{
    public const string Verb = "cluster";

    public static async Task<int> RunAsync(string[] args)
    {
        int changes = Option(args, "--changes", 1000);
        int rounds = Option(args, "--rounds", 3);
        int users = Option(args, "--users", 40_000);
        string daemon = ServerLocator.FindDaemon();
        int redisPort = FreePort();
        using var redis = Process.Start(new ProcessStartInfo("redis-server",
            ["--port", redisPort.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        { RedirectStandardOutput = true, UseShellExecute = false })!;
        var daemons = new List<Daemon>();
        try
        {
            string config = $"127.0.0.1:{redisPort}";
            for (int i = 0; i < 3; i++) daemons.Add(await Daemon.StartAsync(daemon, "-redis", config));
            var alone = await Daemon.StartAsync(daemon);
            daemons.Add(alone);
            var (a, c) = (daemons[0], daemons[2]);
            using var http = new HttpClient();

            Console.WriteLine($"# propagation: POST on A until a new client is served on C, {changes} changes");
            var times = new List<double>(changes);
            for (int i = 0; i < changes; i++)
            {
                var clock = Stopwatch.StartNew();
                await PostAsync(http, a.Controller, AddOne($"/lat-{i}"));
                while (!await ServesAsync(c.Tunnel, $"/lat-{i}")) { }
                times.Add(clock.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            Console.WriteLine($"p50 {Percentile(times, 0.50):0.00} ms, p99 {Percentile(times, 0.99):0.00} ms, max {times[^1]:0.00} ms");
            // A slow change is usually a resync or an outage: the instances' own lines say which.
            for (int i = 0; i < 3; i++)
                foreach (string line in daemons[i].Lines.Where(l => l.Contains("resynced", StringComparison.Ordinal) || l.Contains("Redis unreachable", StringComparison.Ordinal)))
                    Console.WriteLine($"instance {"ABC"[i]}: {line}");

            Console.WriteLine($"# changes per second, 4 writers of one-user opt 1, {changes} changes a round, {rounds} rounds each, interleaved");
            // One round of each first, not counted: the JIT and the connection pools warm up.
            await ChangesPerSecondAsync(http, alone.Controller, changes, "warm-alone");
            await ChangesPerSecondAsync(http, a.Controller, changes, "warm-redis");
            var withRedis = new List<double>();
            var without = new List<double>();
            for (int r = 0; r < rounds; r++)
            {
                without.Add(await ChangesPerSecondAsync(http, alone.Controller, changes, $"alone{r}"));
                withRedis.Add(await ChangesPerSecondAsync(http, a.Controller, changes, $"redis{r}"));
                Console.WriteLine($"round {r + 1}: alone {without[^1]:0} /s, -redis {withRedis[^1]:0} /s, ratio {withRedis[^1] / without[^1]:0.00}");
            }
            Console.WriteLine($"median: alone {Median(without):0} /s, -redis {Median(withRedis):0} /s, ratio {Median(withRedis) / Median(without):0.00}");

            Console.WriteLine($"# resync of {users} users into a joining instance, {rounds} joins");
            await PostAsync(http, a.Controller, """{"opt":3}""");
            for (int start = 0; start < users; start += 20_000)
            {
                var body = new StringBuilder("""{"opt":1,"args_bunch":[""");
                for (int i = start; i < Math.Min(users, start + 20_000); i++)
                    body.Append(i == start ? "" : ",").Append(CultureInfo.InvariantCulture, $$"""{"path":"/u{{i}}","dst":"127.0.0.1:9","name":"acct-{{i}}"}""");
                await PostAsync(http, a.Controller, body.Append("]}").ToString());
            }
            for (int r = 0; r < rounds; r++)
            {
                var joining = await Daemon.StartAsync(daemon, "-redis", config);
                var line = await joining.WaitForLineAsync(ResyncLine());
                Console.WriteLine($"join {r + 1}: {line}");
                await joining.DisposeAsync();
            }
        }
        finally
        {
            foreach (var d in daemons) await d.DisposeAsync();
            redis.Kill();
        }
        return 0;
    }

    private static async Task<double> ChangesPerSecondAsync(HttpClient http, int controller, int changes, string tag)
    {
        int next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < changes) await PostAsync(http, controller, AddOne($"/{tag}-{i}"));
        })));
        return changes / clock.Elapsed.TotalSeconds;
    }

    private static string AddOne(string path) => $$"""{"opt":1,"args_bunch":[{"path":"{{path}}","dst":"127.0.0.1:9"}]}""";

    private static async Task PostAsync(HttpClient http, int port, string json)
    {
        using var reply = await http.PostAsync($"http://127.0.0.1:{port}", new StringContent(json, Encoding.UTF8));
        string text = await reply.Content.ReadAsStringAsync();
        if (!text.StartsWith("""{"res":1""", StringComparison.Ordinal)) throw new InvalidOperationException($"refused: {text}");
    }

    private static async Task<bool> ServesAsync(int port, string path)
    {
        await using var client = await RawWebSocketClient.ConnectAsync(port);
        return (await client.UpgradeAsync(path)).Status == 101;
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    internal static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    internal static int Option(string[] args, string name, int fallback)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }

    internal static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    [GeneratedRegex(@"resynced from Redis \(start\): .*")]
    private static partial Regex ResyncLine();
}
