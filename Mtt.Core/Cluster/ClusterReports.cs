using System.Globalization;
using System.Text.Json;
using Mtt.Core.Control.Commands;
using Mtt.Core.Routing;
using StackExchange.Redis;

namespace Mtt.Core.Cluster;

/// <summary>opt 4, 5 and 6 answers built from what the scripts return: the cluster's counters, not this instance's.</summary>
internal static class ClusterReports
{
    /// <summary>
    /// opt 4: this instance's users (its table, sorted by path) with the counters every instance flushed, and what is
    /// left of each quota after the whole cluster's traffic.
    /// </summary>
    public static CommandOutcome List(RouteTable table, RedisResult[] counters, int entryCount, DateTimeOffset at)
    {
        var bytesFrom = Map((RedisResult[])counters[0]!);
        var bytesTo = Map((RedisResult[])counters[1]!);
        var tunnels = Map((RedisResult[])counters[2]!);
        var streams = Map((RedisResult[])counters[3]!);
        var last = Map((RedisResult[])counters[4]!);
        var open = new Dictionary<string, (long Tunnels, long Streams)>(StringComparer.Ordinal);
        var flat = (RedisResult[])counters[5]!;
        for (int i = 0; i + 2 < flat.Length; i += 3) open[(string)flat[i]!] = ((long)flat[i + 1], (long)flat[i + 2]);
        var quotaUsed = Map((RedisResult[])counters[6]!);

        var users = new List<UserReport>(table.Count);
        foreach (var route in Sorted(table))
        {
            string path = route.Path;
            open.TryGetValue(path, out var now);
            users.Add(new UserReport
            {
                Path = path,
                Dst = route.Backend.ToString(),
                Name = route.Name,
                ActiveTunnels = now.Tunnels,
                ActiveStreams = now.Streams,
                TotalTunnels = tunnels.GetValueOrDefault(path),
                TotalStreams = streams.GetValueOrDefault(path),
                BytesFromClient = bytesFrom.GetValueOrDefault(path),
                BytesToClient = bytesTo.GetValueOrDefault(path),
                LastActivity = last.TryGetValue(path, out long ms) && ms > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime : null,
            });
            UserListing.AddLimits(users[^1], route, at);
            if (route.Limits.Quota is { } quota)
            {
                // The caller flushed first, so the count holds this instance's bytes too; a quota cut here is spent.
                users[^1].QuotaLeft = route.State.Limiter.CutReason == Limits.LimitRefusal.Quota ? 0
                    : Math.Clamp(quota - quotaUsed.GetValueOrDefault(path), 0, quota);
            }
        }
        return new CommandOutcome(new ControllerReply { Res = ControllerReply.Success, Users = users },
            CommandProcessor.OptList, entryCount, $"listed {users.Count} users (cluster counters)");
    }

    /// <summary>
    /// opt 5: every path with bytes in Redis (a user added on another instance a moment ago included, so a reset
    /// never drops bytes unreported) and every user of this table, sorted by path.
    /// </summary>
    public static CommandOutcome Traffic(RouteTable table, RedisResult[] traffic, bool reset, int entryCount)
    {
        var from = Map((RedisResult[])traffic[0]!);
        var to = Map((RedisResult[])traffic[1]!);
        var paths = new SortedSet<string>(StringComparer.Ordinal);
        paths.UnionWith(from.Keys);
        paths.UnionWith(to.Keys);
        foreach (var route in table.Routes) paths.Add(route.Path);
        var report = new List<TrafficReport>(paths.Count);
        foreach (string path in paths)
        {
            string? name = table.TryGet(path, out var route) ? route.Name : null;
            report.Add(new TrafficReport { Path = path, Name = name, BytesFromClient = from.GetValueOrDefault(path), BytesToClient = to.GetValueOrDefault(path) });
        }
        return new CommandOutcome(new ControllerReply { Res = ControllerReply.Success, Traffic = report }, CommandProcessor.OptTraffic, entryCount,
            string.Create(CultureInfo.InvariantCulture, $"traffic of {report.Count} users (cluster counters){(reset ? ", counters reset" : "")}"));
    }

    /// <summary>opt 6: the live instances, by id.</summary>
    public static CommandOutcome Nodes(RedisResult[] beats, int entryCount)
    {
        var nodes = new List<NodeReport>(beats.Length);
        foreach (var beat in beats)
        {
            try
            {
                if (JsonSerializer.Deserialize((string)beat!, ControllerJsonContext.Default.NodeReport) is { } node) nodes.Add(node);
            }
            catch (JsonException)
            {
                // Not ours (another program under the same prefix): not an instance.
            }
        }
        nodes.Sort(static (a, b) => string.CompareOrdinal(a.Id, b.Id));
        return new CommandOutcome(new ControllerReply { Res = ControllerReply.Success, Nodes = nodes }, CommandProcessor.OptNodes, entryCount,
            $"listed {nodes.Count} instances");
    }

    private static Dictionary<string, long> Map(RedisResult[] flat)
    {
        var map = new Dictionary<string, long>(flat.Length / 2, StringComparer.Ordinal);
        for (int i = 0; i + 1 < flat.Length; i += 2)
        {
            if (long.TryParse((string?)flat[i + 1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
                map[(string)flat[i]!] = value;
        }
        return map;
    }

    private static Route[] Sorted(RouteTable table)
    {
        var routes = new Route[table.Count];
        int i = 0;
        foreach (var route in table.Routes) routes[i++] = route;
        Array.Sort(routes, static (a, b) => string.CompareOrdinal(a.Path, b.Path));
        return routes;
    }
}
