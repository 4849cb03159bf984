using Microsoft.Extensions.Logging;
using Mtt.Core.Diagnostics;

namespace Mtt.Core.Cluster;

/// <summary>The shared table's events (<c>-redis</c>): joining, Redis lost and back, resyncs, changes from other instances.</summary>
[LogEventRange(7000, 7099)]
internal static partial class ClusterLog
{
    [LoggerMessage(7001, LogLevel.Information, "shared user table on Redis {where} (prefix {prefix}): {users} users at version {version}; this instance is {nodeId}")]
    public static partial void Joined(ILogger logger, string where, string prefix, int users, long version, string nodeId);

    [LoggerMessage(7002, LogLevel.Warning, "Redis {where} is unreachable at start ({error}): serving {users} users ({source}) until it answers; changes are refused until then")]
    public static partial void UnreachableAtStart(ILogger logger, string where, string error, int users, string source);

    [LoggerMessage(7003, LogLevel.Warning, "Redis unreachable ({error}): tunnels go on with the last table (version {version}, {users} users); changes are refused until it is back")]
    public static partial void Unreachable(ILogger logger, string error, long version, int users);

    [LoggerMessage(7004, LogLevel.Information, "Redis reachable again after {seconds} s: resyncing the user table")]
    public static partial void Reachable(ILogger logger, string seconds);

    [LoggerMessage(7005, LogLevel.Information, "resynced from Redis ({reason}): {users} users at table version {version} in {milliseconds} ms{kicked}{unreadable}")]
    public static partial void Resynced(ILogger logger, string reason, int users, long version, long milliseconds, string kicked, string unreadable);

    [LoggerMessage(7006, LogLevel.Information, "Redis held no user table (new, or restarted without persistence): wrote this instance's {users} users at version {version}")]
    public static partial void Seeded(ILogger logger, int users, long version);

    [LoggerMessage(7007, LogLevel.Warning, "a change message from Redis could not be read ({reason}): resyncing")]
    public static partial void MessageUnreadable(ILogger logger, string? reason);

    [LoggerMessage(7008, LogLevel.Information, "table version {version} from Redis: opt {opt}, {entries} entries: applied, {users} users, {kicked} tunnels of removed users closed")]
    public static partial void RemoteChangeKicked(ILogger logger, long version, int opt, int entries, int users, long kicked);

    [LoggerMessage(7009, LogLevel.Debug, "table version {version} from Redis: opt {opt}, {entries} entries: applied, {users} users")]
    public static partial void RemoteChange(ILogger logger, long version, int opt, int entries, int users);

    [LoggerMessage(7010, LogLevel.Warning, "{error}; the local copy falls behind the shared table until a save succeeds")]
    public static partial void StateSaveFailed(ILogger logger, string error);

    [LoggerMessage(7011, LogLevel.Information, "state file {file} saved again")]
    public static partial void StateSavedAgain(ILogger logger, string file);

    [LoggerMessage(7012, LogLevel.Information, "the quota of {user} is spent across the cluster: its {tunnels} tunnels here close with 1008, new ones get 403")]
    public static partial void QuotaSpent(ILogger logger, string user, long tunnels);
}
