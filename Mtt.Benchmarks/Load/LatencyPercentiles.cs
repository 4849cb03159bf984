namespace Mtt.Benchmarks.Load;

/// <summary>Round-trip times in microseconds at p50, p90, p99, p99.9 and the maximum.</summary>
internal sealed record LatencyPercentiles(double P50, double P90, double P99, double P999, double Max)
{
    /// <summary>From samples in Stopwatch ticks, sorted ascending.</summary>
    public static LatencyPercentiles FromSorted(ReadOnlySpan<long> sorted) => new(
        NearestRank.Microseconds(NearestRank.Of(sorted, 0.50)),
        NearestRank.Microseconds(NearestRank.Of(sorted, 0.90)),
        NearestRank.Microseconds(NearestRank.Of(sorted, 0.99)),
        NearestRank.Microseconds(NearestRank.Of(sorted, 0.999)),
        NearestRank.Microseconds(sorted.IsEmpty ? 0 : sorted[^1]));

    /// <summary>Each percentile divided by the same one of <paramref name="floor"/>.</summary>
    public LatencyPercentiles RatioTo(LatencyPercentiles floor) =>
        new(P50 / floor.P50, P90 / floor.P90, P99 / floor.P99, P999 / floor.P999, Max / floor.Max);
}
