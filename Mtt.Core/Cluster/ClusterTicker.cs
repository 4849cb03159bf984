using System.Diagnostics;
using System.Globalization;
using Mtt.Core.Control.State;
using Mtt.Core.Routing;
using StackExchange.Redis;

namespace Mtt.Core.Cluster;

/// <summary>
/// The instance's side of the cluster's rhythm: the change messages as they come, and once a tick the counter
/// flush, the heartbeat and the version check, with full resyncs (after a gap, a reconnect, a Redis that went
/// back) and the re-seeding of a Redis that came back empty. One tick (or resync) runs at a time.
/// </summary>
internal sealed class ClusterTicker : IAsyncDisposable
{
    // A fresh instance (no -state, nothing served) waits this many ticks before it seeds an empty Redis, so that an
    // instance that holds the table gets to re-seed it first after a Redis restart.
    private const int FreshInstanceSeedTicks = 3;

    private readonly RedisUserTable _table;
    private readonly CounterFlusher _flusher = new();
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly DateTime _started;
    private ChannelMessageQueue? _queue;
    private Task _loop = Task.CompletedTask;
    private string _address = "";
    private Func<long> _openTunnels = static () => 0;
    private string? _resyncReason;
    private long _seenVersion = -1;
    private int _missingTicks;
    private long _downSinceTicks;
    private bool _down;

    public ClusterTicker(RedisUserTable table)
    {
        _table = table;
        _started = table.Options.Time.GetUtcNow().UtcDateTime;
    }

    private ClusterMetrics Metrics => _table.Metrics;

    public void Announce(string address, Func<long> openTunnels)
    {
        _address = address;
        _openTunnels = openTunnels;
        // The heartbeat of the start tick had no address yet: the others learn it now, not a tick later.
        _ = Task.Run(async () =>
        {
            try { await TickAsync().ConfigureAwait(false); }
            catch (Exception e) when (RedisUserTable.IsRedisFault(e)) { Failed(e); }
        });
    }

    public async Task StartAsync(string where)
    {
        var log = _table.Log;
        try
        {
            await SubscribeAsync().ConfigureAwait(false);
            await _turn.WaitAsync().ConfigureAwait(false);
            try { await TickCoreAsync("start").ConfigureAwait(false); }
            finally { _turn.Release(); }
            ClusterLog.Joined(log, where, _table.Keys.Prefix, _table.Current.Count, _table.Version, _table.NodeId);
        }
        catch (Exception e) when (RedisUserTable.IsRedisFault(e))
        {
            Failed(e);
            _resyncReason = "reconnect";
            ClusterLog.UnreachableAtStart(log, where, RedisUserTable.Describe(e), _table.Current.Count, _table.Current.Count > 0 ? "the -state copy" : "none: no -state copy");
        }
        _loop = Task.Run(LoopAsync);
    }

    public void OnReconnected(ConnectionType type) => RequestResync("reconnect");

    public void RequestResync(string reason) => Interlocked.CompareExchange(ref _resyncReason, reason, null);

    /// <summary>A call to Redis failed: logged once per outage, and <c>mtt_cluster_redis_up</c> drops to 0.</summary>
    public void Failed(Exception e)
    {
        Metrics.Up = false;
        lock (_flusher)
        {
            if (_down) return;
            _down = true;
            _downSinceTicks = Environment.TickCount64;
        }
        ClusterLog.Unreachable(_table.Log, RedisUserTable.Describe(e), _table.Version, _table.Current.Count);
    }

    /// <summary>One tick now (opt 4 and 5 flush this instance's counters before they read the cluster's).</summary>
    public async Task TickAsync()
    {
        await _turn.WaitAsync().ConfigureAwait(false);
        try { await TickCoreAsync(null).ConfigureAwait(false); }
        finally { _turn.Release(); }
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(_table.Options.TickInterval, _table.Options.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    if (_queue is null) await SubscribeAsync().ConfigureAwait(false);
                    await TickAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (RedisUserTable.IsRedisFault(e))
                {
                    Failed(e);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task SubscribeAsync()
    {
        var queue = await _table.Database.Multiplexer.GetSubscriber().SubscribeAsync(_table.Keys.Channel).ConfigureAwait(false);
        // Handled one at a time, in the order Redis published them.
        queue.OnMessage(OnMessageAsync);
        _queue = queue;
    }

    private async Task OnMessageAsync(ChannelMessage message)
    {
        string text = (string)message.Message!;
        if (ClusterQuota.IsSpent(text))
        {
            ClusterQuota.Spent(text, _table.Current, _table.Version, _table.Log);
            return;
        }
        if (!ChangeMessage.TryParse(text, out long version, out var change, out string? reason))
        {
            ClusterLog.MessageUnreadable(_table.Log, reason);
            RequestResync("gap");
            return;
        }
        var step = _table.Replica.Apply(version, change, out var table, out long kicked);
        if (step == ReplicaStep.Gap)
        {
            RequestResync("gap");
        }
        else if (step == ReplicaStep.Applied)
        {
            if (kicked > 0) ClusterLog.RemoteChangeKicked(_table.Log, version, change.Opt, change.EntryCount, table.Count, kicked);
            else ClusterLog.RemoteChange(_table.Log, version, change.Opt, change.EntryCount, table.Count);
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    // Under _turn: flush and heartbeat, then whatever the version in Redis calls for.
    private async Task TickCoreAsync(string? startReason)
    {
        var options = _table.Options;
        var keys = _table.Keys;
        var batch = _flusher.Next(_table.Current);
        var args = new RedisValue[5 + batch.Values.Length];
        args[0] = _table.NodeId;
        args[1] = batch.Sequence;
        args[2] = _table.Heartbeat(_address, _openTunnels(), _started);
        args[3] = (long)options.HeartbeatLifetime.TotalMilliseconds;
        args[4] = keys.Prefix;
        batch.Values.CopyTo(args, 5);
        RedisKey[] tickKeys = [keys.Users, keys.Version, keys.BytesFrom, keys.BytesTo, keys.TunnelsOpened, keys.StreamsOpened,
            keys.TrafficFrom, keys.TrafficTo, keys.LastActivity, keys.Nodes, keys.Node, keys.Active, keys.Flushed, keys.QuotaUsed];
        // What this instance served before asking: a message applied while the answer travels is not Redis going back.
        long localBefore = _table.Version;
        RedisResult[] result;
        try
        {
            result = (RedisResult[])(await _table.Database.ScriptEvaluateAsync(ClusterScripts.Tick, tickKeys, args).WaitAsync(options.CallTimeout).ConfigureAwait(false))!;
        }
        catch (Exception e) when (RedisUserTable.IsRedisFault(e))
        {
            Metrics.FlushFailed();
            throw;
        }
        _flusher.Confirm(batch);
        ClusterQuota.Flushed(batch, (RedisResult[])result[2]!);
        Metrics.NodesAlive = (int)result[1];
        Recovered();

        string? reason = startReason ?? Interlocked.Exchange(ref _resyncReason, null);
        if (result[0].IsNull)
        {
            await SeedAsync(reason).ConfigureAwait(false);
            return;
        }
        _missingTicks = 0;
        long inRedis = (long)result[0];
        long local = _table.Version;
        if (reason is null && inRedis < localBefore) reason = "version";
        // Seen in Redis a whole tick ago and still not here: a message was lost.
        if (reason is null && _seenVersion > local) reason = "gap";
        _seenVersion = inRedis;
        if (reason is not null) await ResyncAsync(reason).ConfigureAwait(false);
    }

    private void Recovered()
    {
        Metrics.Up = true;
        long since;
        lock (_flusher)
        {
            if (!_down) return;
            _down = false;
            since = _downSinceTicks;
        }
        RequestResync("reconnect");
        _flusher.ResendOpenCounts();
        ClusterLog.Reachable(_table.Log, ((Environment.TickCount64 - since) / 1000.0).ToString("0.0", CultureInfo.InvariantCulture));
    }

    private async Task ResyncAsync(string reason)
    {
        var clock = Stopwatch.StartNew();
        long before = _table.Version;
        var keys = _table.Keys;
        var result = (RedisResult[])(await _table.Database.ScriptEvaluateAsync(ClusterScripts.Snapshot, [keys.Users, keys.Version, keys.QuotaUsed])
            .WaitAsync(_table.Options.ResyncTimeout).ConfigureAwait(false))!;
        if (result[0].IsNull)
        {
            await SeedAsync(reason).ConfigureAwait(false);
            return;
        }
        long version = (long)result[0];
        var records = (RedisResult[])result[1]!;
        var users = new List<Route>(records.Length);
        int unreadable = 0;
        foreach (var record in records)
        {
            if (UserRecordJson.TryParse((string)record!, out var route, out _)) users.Add(route);
            else unreadable++;
        }
        // Older than what was served before asking: Redis went back (a restart, a failover), and its table is the
        // truth. Older only than what messages brought meanwhile: those are newer, and the snapshot is dropped.
        var quotaCounts = (RedisResult[])result[2]!;
        if (!_table.Replica.ApplySnapshot(version, users, force: version < before, out long kicked,
            table => ClusterQuota.Loaded(table, quotaCounts, _flusher.FlushedBytes))) return;
        _seenVersion = version;
        Metrics.Resynced(reason);
        ClusterLog.Resynced(_table.Log, reason, users.Count, version, clock.ElapsedMilliseconds,
            kicked > 0 ? $", {kicked} tunnels of removed users closed" : "", unreadable > 0 ? $"; {unreadable} unreadable records skipped" : "");
    }

    // Redis holds no table: a new Redis, or one restarted without persistence. The instance that holds a table
    // writes it back (the first one wins); the others then load it.
    private async Task SeedAsync(string? reason)
    {
        var current = _table.Current;
        // At its own start an instance seeds at once: a new cluster takes changes from its first instance's start.
        if (reason != "start" && _table.Version == 0 && current.Count == 0 && ++_missingTicks < FreshInstanceSeedTicks) return;
        var args = new List<RedisValue>(1 + current.Count * 2) { _table.Version };
        foreach (var route in current.Routes)
        {
            args.Add(route.Path);
            args.Add(UserRecordJson.Serialize(route));
        }
        var keys = _table.Keys;
        var written = await _table.Database.ScriptEvaluateAsync(ClusterScripts.Seed, [keys.Users, keys.Version], args.ToArray())
            .WaitAsync(_table.Options.ResyncTimeout).ConfigureAwait(false);
        if ((long)written == 1)
        {
            _flusher.ResendOpenCounts();
            ClusterLog.Seeded(_table.Log, current.Count, _table.Version);
        }
        else
        {
            await ResyncAsync(reason ?? "seeded_elsewhere").ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        await _loop.ConfigureAwait(false);
        try
        {
            // Leave the list at once rather than when the heartbeat expires; best effort.
            var keys = _table.Keys;
            await _table.Database.KeyDeleteAsync([keys.Node, keys.Active]).WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisUserTable.IsRedisFault(e))
        {
        }
        if (_queue is not null)
        {
            try { await _queue.UnsubscribeAsync().ConfigureAwait(false); }
            catch (Exception e) when (RedisUserTable.IsRedisFault(e)) { }
        }
        _stopping.Dispose();
    }
}
