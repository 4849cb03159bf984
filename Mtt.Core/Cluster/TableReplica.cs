using Mtt.Core.Control.Commands;
using Mtt.Core.Control.State;
using Microsoft.Extensions.Logging;
using Mtt.Core.Routing;

namespace Mtt.Core.Cluster;

/// <summary>
/// This instance's copy of the shared table and the version it is at. Changes apply strictly in version order
/// (one after another, each exactly one more). A change that arrives early (the answer to this instance's own
/// change can overtake another's message) waits in a bounded buffer for the ones before it; a gap that does not
/// close is the caller's to see (the version in Redis stays ahead) and to repair with a full resync. Each
/// applied table is published with one swap of the route store, as the local table does, and the users it
/// removed or moved are revoked (their tunnels close with 1008). With <c>-state</c> each table is saved too: the
/// copy served from when the instance starts while Redis is down.
/// </summary>
internal sealed class TableReplica(RouteStore routes, UserStateFile? stateFile, ILogger log)
{
    // Changes that came before their predecessors; beyond this many, the replica gives up and resyncs.
    private const int MaxEarlyChanges = 4096;

    private readonly Lock _lock = new();
    private readonly SortedDictionary<long, UserChange> _early = [];
    private readonly List<(long Version, TaskCompletionSource Applied)> _waiters = [];
    private long _version;
    private bool _saveFailing;

    public RouteStore Routes { get; } = routes;

    /// <summary>The version served; 0 before the first sync (serving the <c>-state</c> copy, or nothing).</summary>
    public long Version => Volatile.Read(ref _version);

    /// <summary>
    /// Applies <paramref name="change"/> if it is the next version (and any early ones it unblocks), or keeps it
    /// until its turn; kicked tunnels in <paramref name="kicked"/>.
    /// </summary>
    public ReplicaStep Apply(long version, UserChange change, out RouteTable table, out long kicked)
    {
        var displaced = new List<UserState>();
        lock (_lock)
        {
            table = Routes.Current;
            kicked = 0;
            if (version <= _version) return ReplicaStep.AlreadyApplied;
            if (version != _version + 1)
            {
                if (_early.Count >= MaxEarlyChanges) { _early.Clear(); return ReplicaStep.Gap; }
                _early[version] = change;
                return ReplicaStep.Early;
            }
            _early[version] = change;
            table = ApplyEarly(displaced);
            Save(table);
            Settle();
        }
        kicked = Revoke(displaced);
        return ReplicaStep.Applied;
    }

    // Under the lock: applies the kept changes that now follow the version, one after another.
    private RouteTable ApplyEarly(List<UserState> displaced)
    {
        var table = Routes.Current;
        while (_early.Remove(_version + 1, out var step))
        {
            table = Routes.Update(current => step.Opt switch
            {
                CommandProcessor.OptAdd => current.WithAdded(step.Added, displaced),
                CommandProcessor.OptDelete => current.WithRemoved(step.Removed, displaced),
                _ => Everyone(current, displaced),
            });
            if (step.Opt == CommandProcessor.OptAdd) CommandProcessor.ApplyLimits(table, step.Added, Routes.Time);
            Volatile.Write(ref _version, _version + 1);
        }
        return table;
    }

    /// <summary>Completes once the replica is at <paramref name="version"/> or later.</summary>
    public Task WhenAtAsync(long version)
    {
        lock (_lock)
        {
            if (_version >= version) return Task.CompletedTask;
            var applied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((version, applied));
            return applied.Task;
        }
    }

    // Under the lock: early changes now behind the version are dropped, and waiters it reached are released.
    private void Settle()
    {
        while (_early.Count > 0 && _early.Keys.First() <= _version) _early.Remove(_early.Keys.First());
        for (int i = _waiters.Count - 1; i >= 0; i--)
        {
            if (_waiters[i].Version > _version) continue;
            _waiters[i].Applied.TrySetResult();
            _waiters.RemoveAt(i);
        }
    }

    /// <summary>
    /// Replaces the table by a snapshot at <paramref name="version"/>. Users whose path and dst stay keep their
    /// state (counters, tunnels). An older snapshot is ignored unless <paramref name="force"/> (Redis went back).
    /// Changes kept for a later version that follow the snapshot are applied after it; when none did,
    /// <paramref name="atVersion"/> sees the table at the snapshot's version, under the lock that orders changes.
    /// </summary>
    public bool ApplySnapshot(long version, IReadOnlyList<Route> users, bool force, out long kicked, Action<RouteTable>? atVersion = null)
    {
        var displaced = new List<UserState>();
        kicked = 0;
        lock (_lock)
        {
            if (version < _version && !force) return false;
            if (force) _early.Clear();
            var table = Routes.Update(current =>
            {
                var carried = new Route[users.Count];
                var kept = new HashSet<UserState>(ReferenceEqualityComparer.Instance);
                for (int i = 0; i < users.Count; i++)
                {
                    var user = users[i];
                    if (current.TryGet(user.Path, out var old) && old.Backend == user.Backend)
                    {
                        user = user with { State = old.State };
                        kept.Add(old.State);
                    }
                    carried[i] = user;
                }
                foreach (var old in current.Routes)
                {
                    if (!kept.Contains(old.State)) displaced.Add(old.State);
                }
                return RouteTable.From(carried);
            });
            // Limits that changed for users who stay come in force at once, as after a local opt 1.
            CommandProcessor.ApplyLimits(table, table.Routes, Routes.Time);
            Volatile.Write(ref _version, version);
            while (_early.Count > 0 && _early.Keys.First() <= version) _early.Remove(_early.Keys.First());
            table = ApplyEarly(displaced);
            if (_version == version) atVersion?.Invoke(table);
            Save(table);
            Settle();
        }
        kicked = Revoke(displaced);
        return true;
    }

    private static RouteTable Everyone(RouteTable current, List<UserState> displaced)
    {
        foreach (var route in current.Routes) displaced.Add(route.State);
        return RouteTable.Empty;
    }

    private static long Revoke(List<UserState> displaced)
    {
        long kicked = 0;
        foreach (var state in displaced)
        {
            kicked += state.ActiveTunnels;
            state.Revoke();
        }
        return kicked;
    }

    // The change is in Redis already: a failed local save is logged (once per spell), not a refusal.
    private void Save(RouteTable table)
    {
        if (stateFile is null) return;
        try
        {
            stateFile.Save(table);
            if (_saveFailing) ClusterLog.StateSavedAgain(log, stateFile.Path);
            _saveFailing = false;
        }
        catch (StateFileException e)
        {
            if (!_saveFailing) ClusterLog.StateSaveFailed(log, e.Message);
            _saveFailing = true;
        }
    }
}
