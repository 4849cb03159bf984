namespace Mtt.Benchmarks.Load;

/// <summary>Percentiles by the nearest-rank method: the smallest sample with at least that fraction of samples at or below it.</summary>
internal static class NearestRank
{
    /// <summary>The <paramref name="fraction"/> (0..1] percentile of <paramref name="sorted"/> (ascending); 0 when empty.</summary>
    public static long Of(ReadOnlySpan<long> sorted, double fraction)
    {
        if (sorted.IsEmpty) return 0;
        long rank = (long)Math.Ceiling(fraction * sorted.Length);
        return sorted[(int)Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    /// <summary>Stopwatch ticks in microseconds.</summary>
    public static double Microseconds(long ticks) => ticks * 1e6 / System.Diagnostics.Stopwatch.Frequency;
}
