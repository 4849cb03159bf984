namespace Mtt.Benchmarks.Load;

/// <summary>The medians of one target's runs, and, for a tunnel, its ratios to the floor relay of the same TLS mode.</summary>
internal sealed record TargetSummary(
    string Target,
    bool Tls,
    int Runs,
    double MedianMegabytesPerSecond,
    double MedianServerCpuSecondsPerGigabyte,
    long MaxRssKiB,
    double? CpuPerGigabyteRatioToFloor,
    double? ThroughputRatioToFloor);
