namespace Mtt.Benchmarks.Load;

/// <summary>
/// One target's latency over all its runs: the percentiles of every sample pooled, the median round trips
/// per second and server CPU per round trip; for a tunnel, the ratios of each to the floor relay.
/// </summary>
internal sealed record LatencySummary(
    string Target,
    string Kind,
    int Runs,
    long Samples,
    LatencyPercentiles Microseconds,
    double MedianRoundTripsPerSecond,
    double MedianServerCpuMicrosecondsPerRoundTrip,
    LatencyPercentiles? RatioToFloor,
    double? RoundTripsPerSecondRatioToFloor,
    double? CpuPerRoundTripRatioToFloor);
