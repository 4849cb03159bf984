using System.Diagnostics.CodeAnalysis;
using Mtt.Core.Limits;

namespace Mtt.Core.Control.Commands;

/// <summary>Turns an entry's <see cref="RawLimitFields"/> into <see cref="UserLimits"/>, or the reason the first bad field is refused.</summary>
internal static class LimitsFromEntry
{
    public static bool TryBuild(in RawLimitFields raw, out UserLimits limits, [NotNullWhen(false)] out string? reason)
    {
        limits = UserLimits.None;
        reason = null;
        if (!raw.Any) return true;

        long? maxConns = null, maxIps = null, rate = null, quota = null;
        DateTimeOffset? expires = null;
        if (raw.HasMaxConns && !TryCount("max_conns", raw.MaxConns, UserLimits.MaxCount, ref maxConns, out reason)) return false;
        if (raw.HasMaxIps && !TryCount("max_ips", raw.MaxIps, UserLimits.MaxCount, ref maxIps, out reason)) return false;
        if (raw.HasRate && !TryCount("rate", raw.Rate, UserLimits.MaxRate, ref rate, out reason)) return false;
        if (raw.HasQuota && !TryCount("quota", raw.Quota, UserLimits.MaxQuota, ref quota, out reason)) return false;
        if (raw.HasExpires)
        {
            if (!LimitFieldReader.TryTime("expires", raw.Expires, out var time, out reason)) return false;
            expires = time;
        }
        limits = new UserLimits((int?)maxConns, (int?)maxIps, rate, quota, expires);
        return true;
    }

    private static bool TryCount(string field, decimal? number, long max, ref long? value, [NotNullWhen(false)] out string? reason)
    {
        if (!LimitFieldReader.TryPositive(field, number, max, out long parsed, out reason)) return false;
        value = parsed;
        return true;
    }
}
