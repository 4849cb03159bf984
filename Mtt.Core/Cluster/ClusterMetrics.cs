using System.Diagnostics.Metrics;

namespace Mtt.Core.Cluster;

/// <summary>
/// The cluster's instruments on the server's meter (<c>GET /metrics</c> shows them as <c>mtt_cluster_*</c>): Redis
/// reachable, instances alive, the version served, resyncs by reason, failed flushes, refused changes.
/// </summary>
internal sealed class ClusterMetrics
{
    public static readonly string[] ResyncReasons = ["start", "gap", "reconnect", "version", "seeded_elsewhere"];

    private readonly long[] _resyncs = new long[ResyncReasons.Length];
    private long _flushFailures;
    private long _changesRefused;
    private int _up;
    private int _nodesAlive;

    public bool Up
    {
        get => Volatile.Read(ref _up) == 1;
        set => Volatile.Write(ref _up, value ? 1 : 0);
    }

    public int NodesAlive
    {
        get => Volatile.Read(ref _nodesAlive);
        set => Volatile.Write(ref _nodesAlive, value);
    }

    public void Resynced(string reason)
    {
        int index = Array.IndexOf(ResyncReasons, reason);
        Interlocked.Increment(ref _resyncs[index < 0 ? 0 : index]);
    }

    public void FlushFailed() => Interlocked.Increment(ref _flushFailures);

    public void ChangeRefused() => Interlocked.Increment(ref _changesRefused);

    public void Register(Meter meter, Func<long> version)
    {
        meter.CreateObservableGauge("mtt.cluster.redis_up", () => Up ? 1 : 0, null, "1 while the last call to Redis succeeded, else 0.");
        meter.CreateObservableGauge("mtt.cluster.nodes_alive", () => NodesAlive, "{instance}", "Instances whose heartbeat was in Redis at the last tick, this one included.");
        meter.CreateObservableGauge("mtt.cluster.table_version", version, null, "The version of the shared user table this instance serves (0 before the first sync).");
        meter.CreateObservableCounter("mtt.cluster.resyncs", Resyncs, "{resync}", "Full reloads of the user table from Redis, by reason.");
        meter.CreateObservableCounter("mtt.cluster.flush_failures", () => Volatile.Read(ref _flushFailures), "{flush}", "Counter flushes to Redis that failed (their deltas are sent again).");
        meter.CreateObservableCounter("mtt.cluster.changes_refused", () => Volatile.Read(ref _changesRefused), "{change}", "Controller changes refused because Redis did not take them.");
    }

    private IEnumerable<Measurement<long>> Resyncs()
    {
        for (int i = 0; i < ResyncReasons.Length; i++)
            yield return new Measurement<long>(Volatile.Read(ref _resyncs[i]), new KeyValuePair<string, object?>("reason", ResyncReasons[i]));
    }
}
