using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Mtt.Core.Limits;
using Mtt.Core.Routing;

namespace Mtt.Core.Control.State;

/// <summary>A user's limits to and from its state file entry, checked by the same rules as opt 1.</summary>
internal static class StateFileLimits
{
    public static void Write(Route route, StateFileEntry entry)
    {
        var limits = route.Limits;
        if (limits.IsNone) return;
        entry.MaxConns = limits.MaxConns;
        entry.MaxIps = limits.MaxIps;
        entry.Rate = limits.Rate;
        entry.Quota = limits.Quota;
        if (limits.Quota is { } quota && route.State.Limiter.QuotaLeft(limits, route.State.BytesBothWays) is { } left) entry.QuotaUsed = quota - left;
        entry.Expires = limits.Expires?.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", CultureInfo.InvariantCulture);
    }

    public static bool TryRead(StateFileEntry entry, out UserLimits limits, [NotNullWhen(false)] out string? reason)
    {
        limits = UserLimits.None;
        long maxConns = 0, maxIps = 0, rate = 0, quota = 0;
        DateTimeOffset expires = default;
        reason = null;
        if (entry.MaxConns is { } c && !LimitFieldReader.TryPositive("max_conns", c, UserLimits.MaxCount, out maxConns, out reason)) return false;
        if (entry.MaxIps is { } i && !LimitFieldReader.TryPositive("max_ips", i, UserLimits.MaxCount, out maxIps, out reason)) return false;
        if (entry.Rate is { } r && !LimitFieldReader.TryPositive("rate", r, UserLimits.MaxRate, out rate, out reason)) return false;
        if (entry.Quota is { } q && !LimitFieldReader.TryPositive("quota", q, UserLimits.MaxQuota, out quota, out reason)) return false;
        if (entry.Expires is not null && !LimitFieldReader.TryTime("expires", entry.Expires, out expires, out reason)) return false;
        var read = new UserLimits(
            entry.MaxConns is null ? null : (int)maxConns,
            entry.MaxIps is null ? null : (int)maxIps,
            entry.Rate is null ? null : rate,
            entry.Quota is null ? null : quota,
            entry.Expires is null ? null : expires);
        limits = read.IsNone ? UserLimits.None : read;
        return true;
    }
}
