using System.Globalization;
using Microsoft.Extensions.Logging;
using Mtt.Core.Routing;
using StackExchange.Redis;

namespace Mtt.Core.Cluster;

/// <summary>
/// The quota counted over the whole cluster (docs/scale-out.md, "Quotas"). Each flush adds this instance's bytes to
/// the user's count in Redis in the same script as the other counters, and brings the count back: the quota then
/// ends here where what the cluster has left runs out on top of what this instance moved since that flush
/// (<see cref="Limits.UserLimiter.SyncClusterQuota"/>), so the relay's one compare per message stays the whole
/// check. The flush that crosses a quota publishes it, and every instance closes the user's tunnels at once; an
/// instance that missed that message learns it at its own next flush of the user's bytes.
/// </summary>
internal static class ClusterQuota
{
    private const string SpentPrefix = "spent\n";

    /// <summary>A flush was confirmed: <paramref name="counts"/> holds the cluster's count for each of the batch's users with a quota.</summary>
    public static void Flushed(CounterFlusher.Batch batch, RedisResult[] counts)
    {
        var users = batch.QuotaUsers;
        for (int i = 0; i < users.Length && i < counts.Length; i++)
        {
            long used = (long)counts[i];
            // -1: the user is not in Redis's table (deleted meanwhile); its count is gone with it.
            if (used < 0) continue;
            var user = users[i];
            user.State.Limiter.SyncClusterQuota(user.Quota, used, user.FlushedBytes, user.Generation, user.State.BytesBothWays);
        }
    }

    /// <summary>
    /// A full table was loaded at a version: every user with a quota takes the cluster's count at that version, so an
    /// instance that starts or comes back refuses a spent user at once. <paramref name="flat"/> is path, bytes...
    /// </summary>
    public static void Loaded(RouteTable table, RedisResult[] flat, Func<UserState, long> flushedBytes)
    {
        var counts = new Dictionary<string, long>(flat.Length / 2, StringComparer.Ordinal);
        for (int i = 0; i + 1 < flat.Length; i += 2)
        {
            if (long.TryParse((string?)flat[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out long used)) counts[(string)flat[i]!] = used;
        }
        foreach (var route in table.Routes)
        {
            var limiter = route.State.Limiter;
            if (limiter.Applied.Quota is not { } quota) continue;
            limiter.SyncClusterQuota(quota, counts.GetValueOrDefault(route.Path), flushedBytes(route.State), limiter.QuotaGeneration, route.State.BytesBothWays);
        }
    }

    /// <summary>Whether a message on the changes channel is a quota crossed (<c>spent\nversion\npath</c>) rather than a change.</summary>
    public static bool IsSpent(string message) => message.StartsWith(SpentPrefix, StringComparison.Ordinal);

    /// <summary>
    /// A quota was crossed at table <paramref name="message"/>'s version: the user's tunnels here close with 1008 and new
    /// ones get 403. Skipped when this instance already serves a later version: a change after the crossing may have
    /// set a new quota, and the next flush brings the count that goes with it.
    /// </summary>
    public static void Spent(string message, RouteTable table, long localVersion, ILogger log)
    {
        int end = message.IndexOf('\n', SpentPrefix.Length);
        if (end < 0 || !long.TryParse(message.AsSpan(SpentPrefix.Length, end - SpentPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out long version)) return;
        if (localVersion > version || !table.TryGet(message[(end + 1)..], out var route)) return;
        var limiter = route.State.Limiter;
        if (limiter.Applied.Quota is null || limiter.CutReason != Limits.LimitRefusal.None) return;
        limiter.QuotaReached();
        ClusterLog.QuotaSpent(log, route.Label, route.State.ActiveTunnels);
    }
}
