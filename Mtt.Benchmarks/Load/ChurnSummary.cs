namespace Mtt.Benchmarks.Load;

/// <summary>
/// The medians of one target's churn runs; for a tunnel, its ratios to the floor relay of the same TLS mode; with
/// --anchor, its ratios to the Go anchor's target of the same kind and TLS mode.
/// </summary>
internal sealed record ChurnSummary(
    string Target,
    bool Tls,
    int Runs,
    double MedianConnectionsPerSecond,
    double MedianServerCpuSecondsPerThousand,
    long MaxRssKiB,
    long LastRssAfterKiB,
    double? CpuPerThousandRatioToFloor,
    double? ConnectionsPerSecondRatioToFloor,
    double? CpuPerThousandRatioToAnchor = null,
    double? ConnectionsPerSecondRatioToAnchor = null);
