using Mtt.Core.Diagnostics;

namespace Mtt.Core.Cluster;

/// <summary>The cluster's series in <c>GET /metrics</c>: Redis reachable, instances alive, the version served, resyncs by reason.</summary>
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

    public void Write(PrometheusTextWriter w, long version)
    {
        w.Family("mtt_cluster_redis_up", "gauge", "1 while the last call to Redis succeeded, else 0.");
        w.Sample("mtt_cluster_redis_up", Up ? 1 : 0);
        w.Family("mtt_cluster_nodes_alive", "gauge", "Instances whose heartbeat was in Redis at the last tick, this one included.");
        w.Sample("mtt_cluster_nodes_alive", NodesAlive);
        w.Family("mtt_cluster_table_version", "gauge", "The version of the shared user table this instance serves (0 before the first sync).");
        w.Sample("mtt_cluster_table_version", version);
        w.Family("mtt_cluster_resyncs_total", "counter", "Full reloads of the user table from Redis, by reason.");
        for (int i = 0; i < ResyncReasons.Length; i++) w.Sample("mtt_cluster_resyncs_total", "reason", ResyncReasons[i], Volatile.Read(ref _resyncs[i]));
        w.Family("mtt_cluster_flush_failures_total", "counter", "Counter flushes to Redis that failed (their deltas are sent again).");
        w.Sample("mtt_cluster_flush_failures_total", Volatile.Read(ref _flushFailures));
        w.Family("mtt_cluster_changes_refused_total", "counter", "Controller changes refused because Redis did not take them.");
        w.Sample("mtt_cluster_changes_refused_total", Volatile.Read(ref _changesRefused));
    }
}
