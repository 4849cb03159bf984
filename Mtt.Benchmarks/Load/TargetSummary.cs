namespace Mtt.Benchmarks.Load;

/// <summary>
/// The medians of one target's runs; for a tunnel, its ratios to the floor relay of the same TLS mode; for a tunnel or
/// a relay run with --anchor, its ratios to the Go anchor's target of the same kind and TLS mode.
/// </summary>
internal sealed record TargetSummary(
    string Target,
    bool Tls,
    int Runs,
    double MedianMegabytesPerSecond,
    double MedianServerCpuSecondsPerGigabyte,
    long MaxRssKiB,
    double? CpuPerGigabyteRatioToFloor,
    double? ThroughputRatioToFloor,
    double? CpuPerGigabyteRatioToAnchor = null,
    double? ThroughputRatioToAnchor = null);
