using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Mtt.Core.Control.Commands;
using Mtt.Core.Control.State;
using Mtt.Core.Diagnostics;
using Mtt.Core.Routing;
using StackExchange.Redis;

namespace Mtt.Core.Cluster;

/// <summary>
/// <c>-redis</c>: the user table shared by several instances. The controller writes through Redis (one script
/// per change: the users, a version and a message, atomically) and answers <c>res: 1</c> once Redis has the change;
/// every instance applies each message in version order to its own route snapshot (<see cref="TableReplica"/>).
/// Once a second (<see cref="ClusterTicker"/>) each instance flushes its counter deltas, renews its heartbeat and
/// compares versions, resyncing in full after a gap, a reconnect or a Redis that went back. Tunnels route from
/// the local snapshot only, so a Redis fault stops changes, never a tunnel.
/// </summary>
public sealed class RedisUserTable : IUserTable, IMeterSource, IAsyncDisposable
{
    private readonly ClusterOptions _options;
    private readonly ConnectionMultiplexer _redis;
    private readonly ILogger _log;
    private readonly ClusterTicker _ticker;

    private RedisUserTable(ClusterOptions options, ConnectionMultiplexer redis, TableReplica replica, ILogger log)
    {
        _options = options;
        _redis = redis;
        _log = log;
        NodeId = string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}-{Environment.ProcessId}-{RandomNumberGenerator.GetHexString(4, lowercase: true)}");
        Keys = new ClusterKeys(options.Prefix, NodeId);
        Replica = replica;
        _ticker = new ClusterTicker(this);
    }

    /// <summary>This instance's id in the cluster: host, process id, and a random suffix new at every start.</summary>
    public string NodeId { get; }

    public RouteTable Current => Replica.Routes.Current;

    /// <summary>The version of the shared table this instance serves.</summary>
    public long Version => Replica.Version;

    internal ClusterKeys Keys { get; }

    internal TableReplica Replica { get; }

    internal ClusterMetrics Metrics { get; } = new();

    internal ClusterOptions Options => _options;

    internal ILogger Log => _log;

    internal IDatabase Database => _redis.GetDatabase();

    /// <summary>
    /// Connects (without waiting for Redis if it is down), subscribes, loads the table, and starts the tick.
    /// <paramref name="routes"/> holds the <c>-state</c> copy, which is served until Redis answers.
    /// </summary>
    /// <exception cref="ArgumentException">the configuration string is not one StackExchange.Redis reads.</exception>
    public static async Task<RedisUserTable> StartAsync(ClusterOptions options, RouteStore routes, UserStateFile? stateFile, ILogger log)
    {
        var config = ConfigurationOptions.Parse(options.Configuration);
        // Start while Redis is down (serving the -state copy), and fail a call at once while it is: a change queued
        // for later would be applied after its refusal was answered.
        config.AbortOnConnectFail = false;
        config.BacklogPolicy = BacklogPolicy.FailFast;
        config.ClientName ??= "mtt-mu-server";
        var redis = await ConnectionMultiplexer.ConnectAsync(config).ConfigureAwait(false);
        var table = new RedisUserTable(options, redis, new TableReplica(routes, stateFile, log), log);
        redis.ConnectionRestored += (_, e) => table._ticker.OnReconnected(e.ConnectionType);
        string where = string.Join(",", config.EndPoints.Select(e => e.ToString()));
        await table._ticker.StartAsync(where).ConfigureAwait(false);
        return table;
    }

    /// <summary>What the heartbeat tells the other instances: the tunnel listener and a count of open tunnels.</summary>
    public void Announce(string address, Func<long> openTunnels) => _ticker.Announce(address, openTunnels);

    public async ValueTask<CommandOutcome> ChangeAsync(UserChange change)
    {
        var args = new List<RedisValue>(3 + change.Added.Count * 4 + change.Removed.Count)
        {
            RedisValue.Null, // the deadline, set once the rest is built
            change.Opt,
            Keys.ChannelName,
        };
        foreach (var route in change.Added)
        {
            args.Add(route.Path);
            args.Add(route.Backend.ToString());
            args.Add(route.Limits.Quota is { } quota ? quota : RedisValue.EmptyString);
            args.Add(UserRecordJson.Serialize(route));
        }
        foreach (string path in change.Removed) args.Add(path);
        args[0] = _options.Time.GetUtcNow().Add(_options.ChangeDeadline).ToUnixTimeMilliseconds();

        long version;
        try
        {
            var result = await Database.ScriptEvaluateAsync(ClusterScripts.Change, Keys.ChangeKeys, args.ToArray()).WaitAsync(_options.CallTimeout).ConfigureAwait(false);
            version = (long)result;
        }
        catch (Exception e) when (IsRedisFault(e))
        {
            _ticker.Failed(e);
            return Refused(change, $"not applied: Redis is unreachable ({Describe(e)}); changes are refused until it is back, tunnels of known users go on");
        }
        if (version == -2)
        {
            _ticker.RequestResync("reconnect");
            return Refused(change, "not applied: Redis holds no user table yet (it restarted empty); an instance writes its table back within a few seconds: send it again then");
        }
        if (version < 0)
            return Refused(change, $"not applied: Redis ran the change more than {_options.ChangeDeadline.TotalSeconds:0.###} s after it was sent (paused or overloaded), so it was dropped; send it again");

        var step = Replica.Apply(version, change, out _, out long kicked);
        if (step == ReplicaStep.Gap) _ticker.RequestResync("gap");
        // Redis has it: the answer waits (briefly) for this instance to serve it too, so a ping after it agrees.
        if (step == ReplicaStep.Early)
            await Replica.WhenAtAsync(version).WaitAsync(_options.CallTimeout).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
        var table = Current;
        return new CommandOutcome(ControllerReply.Ok, change.Opt, change.EntryCount,
            kicked > 0 ? $"applied at table version {version}, {table.Count} users, {kicked} tunnels of removed users closed"
                : $"applied at table version {version}, {table.Count} users");
    }

    public async ValueTask<CommandOutcome> ListAsync(int entryCount)
    {
        try
        {
            // Flushed first, so this instance's latest counts are in the answer.
            await _ticker.TickAsync().ConfigureAwait(false);
            RedisKey[] keys = [Keys.BytesFrom, Keys.BytesTo, Keys.TunnelsOpened, Keys.StreamsOpened, Keys.LastActivity, Keys.Nodes, Keys.QuotaUsed];
            var result = await Database.ScriptEvaluateAsync(ClusterScripts.Counters, keys, [Keys.Prefix]).WaitAsync(_options.CallTimeout).ConfigureAwait(false);
            return ClusterReports.List(Current, (RedisResult[])result!, entryCount, Replica.Routes.Time.GetUtcNow());
        }
        catch (Exception e) when (IsRedisFault(e))
        {
            _ticker.Failed(e);
            return CommandProcessor.Refused(CommandProcessor.OptList, entryCount, $"the cluster's counters are in Redis, which is unreachable ({Describe(e)})", null);
        }
    }

    public async ValueTask<CommandOutcome> TrafficAsync(bool reset, int entryCount)
    {
        try
        {
            await _ticker.TickAsync().ConfigureAwait(false);
            var result = await Database.ScriptEvaluateAsync(ClusterScripts.Traffic, [Keys.TrafficFrom, Keys.TrafficTo], [reset ? 1 : 0])
                .WaitAsync(_options.CallTimeout).ConfigureAwait(false);
            return ClusterReports.Traffic(Current, (RedisResult[])result!, reset, entryCount);
        }
        catch (Exception e) when (IsRedisFault(e))
        {
            _ticker.Failed(e);
            // Not answered from local counters: a reset here and in Redis could not be one step.
            return CommandProcessor.Refused(CommandProcessor.OptTraffic, entryCount, $"the cluster's counters are in Redis, which is unreachable ({Describe(e)}); nothing was reset", null);
        }
    }

    public async ValueTask<CommandOutcome> NodesAsync(int entryCount)
    {
        try
        {
            var result = await Database.ScriptEvaluateAsync(ClusterScripts.Nodes, [Keys.Nodes], [Keys.Prefix]).WaitAsync(_options.CallTimeout).ConfigureAwait(false);
            return ClusterReports.Nodes((RedisResult[])result!, entryCount);
        }
        catch (Exception e) when (IsRedisFault(e))
        {
            _ticker.Failed(e);
            return CommandProcessor.Refused(CommandProcessor.OptNodes, entryCount, $"the instance list is in Redis, which is unreachable ({Describe(e)})", null);
        }
    }

    void IMeterSource.Register(System.Diagnostics.Metrics.Meter meter) => Metrics.Register(meter, () => Version);

    public async ValueTask DisposeAsync()
    {
        await _ticker.DisposeAsync().ConfigureAwait(false);
        await _redis.DisposeAsync().ConfigureAwait(false);
    }

    internal static bool IsRedisFault(Exception e) => e is RedisException or TimeoutException;

    // StackExchange.Redis's messages carry a page of connection state: the operator needs the first clause.
    internal static string Describe(Exception e) => e switch
    {
        TimeoutException or RedisTimeoutException => "no answer within the call timeout",
        RedisConnectionException c => $"no connection: {c.FailureType}",
        _ => e.Message.Split(';', '\n')[0].TrimEnd('.'),
    };

    private CommandOutcome Refused(UserChange change, string reason)
    {
        Metrics.ChangeRefused();
        return CommandProcessor.Refused(change.Opt, change.EntryCount, reason, null);
    }

    internal string Heartbeat(string address, long tunnels, DateTime started) => JsonSerializer.Serialize(new NodeReport
    {
        Id = NodeId,
        Address = address,
        Tunnels = tunnels,
        Version = Version,
        Started = started,
        Seen = _options.Time.GetUtcNow().UtcDateTime,
    }, ControllerJsonContext.Default.NodeReport);
}
