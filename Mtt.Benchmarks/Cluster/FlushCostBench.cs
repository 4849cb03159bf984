using System.Diagnostics;
using System.Globalization;
using Mtt.Core.Cluster;
using StackExchange.Redis;

namespace Mtt.Benchmarks.Cluster;

/// <summary>
/// <c>flush-cost</c>: what the cluster-wide quota adds to an instance's once-a-second flush inside Redis, whose one
/// core is the cluster's limit (docs/scale-out.md). Runs the flush script itself on a real redis-server for N busy
/// users, in interleaved rounds: every user without a quota, then every user with one (one more hash increment and
/// a quota compare each). Prints the median time per flush of each and their ratio, as Redis counts it (its
/// <c>INFO commandstats</c>: the script's own time, not the round trip or the client building the call).
/// </summary>
internal static class FlushCostBench
{
    public const string Verb = "flush-cost";

    public static async Task<int> RunAsync(string[] args)
    {
        int users = ClusterBench.Option(args, "--users", 10_000);
        int rounds = ClusterBench.Option(args, "--rounds", 9);
        int flushes = ClusterBench.Option(args, "--flushes", 20);
        int port = ClusterBench.FreePort();
        using var redis = Process.Start(new ProcessStartInfo("redis-server",
            ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        { RedirectStandardOutput = true, UseShellExecute = false })!;
        try
        {
            await using var connection = await ConnectAsync($"127.0.0.1:{port},allowAdmin=true");
            var server = connection.GetServer(connection.GetEndPoints()[0]);
            var db = connection.GetDatabase();
            var keys = new ClusterKeys("bench:", "node-1");
            var entries = new HashEntry[users];
            for (int i = 0; i < users; i++) entries[i] = new HashEntry($"/u{i}", $$"""{"path":"/u{{i}}","dst":"127.0.0.1:9","quota":1000000000000}""");
            await db.HashSetAsync(keys.Users, entries);
            await db.StringSetAsync(keys.Version, 1);
            RedisKey[] tickKeys = [keys.Users, keys.Version, keys.BytesFrom, keys.BytesTo, keys.TunnelsOpened, keys.StreamsOpened,
                keys.TrafficFrom, keys.TrafficTo, keys.LastActivity, keys.Nodes, keys.Node, keys.Active, keys.Flushed, keys.QuotaUsed];
            long sequence = 0;
            RedisValue[] Args(long quota)
            {
                var values = new RedisValue[5 + users * CounterFlusher.ValuesPerUser];
                (values[0], values[1], values[2], values[3], values[4]) = ("node-1", ++sequence, "{}", 5000, keys.Prefix);
                for (int i = 0, at = 5; i < users; i++, at += CounterFlusher.ValuesPerUser)
                {
                    // A busy user: bytes both ways and an activity time, no tunnel opened or closed in the second.
                    (values[at], values[at + 1], values[at + 2], values[at + 3], values[at + 4]) = ($"/u{i}", 12345, 23456, 0, 0);
                    (values[at + 5], values[at + 6], values[at + 7], values[at + 8], values[at + 9]) = (1_700_000_000_000 + sequence, 1, 0, "0", quota);
                }
                return values;
            }
            async Task<double> RoundAsync(long quota)
            {
                await server.ConfigResetStatisticsAsync();
                for (int f = 0; f < flushes; f++) await db.ScriptEvaluateAsync(ClusterScripts.Tick, tickKeys, Args(quota));
                // The script runs as EVALSHA once loaded; its usec_per_call is Redis's time inside it.
                string stats = (await server.InfoRawAsync("commandstats"))!;
                var line = stats.Split('\n').First(l => l.StartsWith("cmdstat_evalsha:", StringComparison.Ordinal) || l.StartsWith("cmdstat_eval:", StringComparison.Ordinal));
                string perCall = line.Split(',').First(f => f.StartsWith("usec_per_call=", StringComparison.Ordinal))["usec_per_call=".Length..];
                return double.Parse(perCall, CultureInfo.InvariantCulture) / 1000;
            }

            Console.WriteLine($"# one flush of {users} busy users, {flushes} flushes a round, {rounds} rounds each, interleaved (ms of Redis time per flush)");
            await RoundAsync(0);
            await RoundAsync(1_000_000_000_000);
            var without = new List<double>();
            var with = new List<double>();
            for (int r = 0; r < rounds; r++)
            {
                without.Add(await RoundAsync(0));
                with.Add(await RoundAsync(1_000_000_000_000));
                Console.WriteLine($"round {r + 1}: no quota {without[^1]:0.00} ms, quota {with[^1]:0.00} ms, ratio {with[^1] / without[^1]:0.00}");
            }
            Console.WriteLine($"median: no quota {ClusterBench.Median(without):0.00} ms, quota {ClusterBench.Median(with):0.00} ms, ratio {ClusterBench.Median(with) / ClusterBench.Median(without):0.00}");
            return 0;
        }
        finally
        {
            redis.Kill();
            await redis.WaitForExitAsync();
        }
    }

    private static async Task<ConnectionMultiplexer> ConnectAsync(string configuration)
    {
        // redis-server takes a moment to listen.
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return await ConnectionMultiplexer.ConnectAsync(configuration);
            }
            catch (RedisConnectionException) when (attempt < 50)
            {
                await Task.Delay(100);
            }
        }
    }
}
