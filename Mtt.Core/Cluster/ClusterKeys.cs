using StackExchange.Redis;

namespace Mtt.Core.Cluster;

/// <summary>
/// The keys of one cluster under its prefix (docs/scale-out.md lists them). The counter hashes are keyed by
/// user path; their order here is the order the scripts read them in.
/// </summary>
internal sealed class ClusterKeys
{
    public ClusterKeys(string prefix, string nodeId)
    {
        Prefix = prefix;
        Users = prefix + "users";
        Version = prefix + "version";
        Channel = RedisChannel.Literal(prefix + "changes");
        ChannelName = prefix + "changes";
        Nodes = prefix + "nodes";
        Node = prefix + "node:" + nodeId;
        Active = prefix + "active:" + nodeId;
        Flushed = prefix + "flushed:" + nodeId;
        BytesFrom = prefix + "bytes_from";
        BytesTo = prefix + "bytes_to";
        TunnelsOpened = prefix + "tunnels_opened";
        StreamsOpened = prefix + "streams_opened";
        TrafficFrom = prefix + "traffic_from";
        TrafficTo = prefix + "traffic_to";
        LastActivity = prefix + "last_activity";
        QuotaUsed = prefix + "quota_used";
    }

    public string Prefix { get; }

    /// <summary>Hash: path to the user's record, the state file's JSON for one user.</summary>
    public RedisKey Users { get; }

    /// <summary>The table version: one more for every applied change.</summary>
    public RedisKey Version { get; }

    public RedisChannel Channel { get; }

    public string ChannelName { get; }

    /// <summary>Set of instance ids; an id whose heartbeat key expired is pruned when seen.</summary>
    public RedisKey Nodes { get; }

    /// <summary>This instance's heartbeat (its <c>NodeReport</c> as JSON), with a time to live.</summary>
    public RedisKey Node { get; }

    /// <summary>Hash: path to "tunnels streams" open on this instance now.</summary>
    public RedisKey Active { get; }

    /// <summary>The last counter flush of this instance that Redis applied (its sequence number).</summary>
    public RedisKey Flushed { get; }

    public RedisKey BytesFrom { get; }

    public RedisKey BytesTo { get; }

    public RedisKey TunnelsOpened { get; }

    public RedisKey StreamsOpened { get; }

    /// <summary>Bytes since the last opt 5 reset (the others count since the user was added).</summary>
    public RedisKey TrafficFrom { get; }

    public RedisKey TrafficTo { get; }

    /// <summary>Hash: path to the Unix time in milliseconds of the user's last activity on any instance.</summary>
    public RedisKey LastActivity { get; }

    /// <summary>
    /// Hash: path to the bytes (both ways) the whole cluster has moved since the user's quota started its count;
    /// only for users with a quota. The flush adds to it; a new quota (opt 1) starts it again.
    /// </summary>
    public RedisKey QuotaUsed { get; }

    /// <summary>Users, version, then the eight per-user counter hashes: what a change touches (the quota's count last).</summary>
    public RedisKey[] ChangeKeys => [Users, Version, BytesFrom, BytesTo, TunnelsOpened, StreamsOpened, TrafficFrom, TrafficTo, LastActivity, QuotaUsed];
}
