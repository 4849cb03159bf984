using System.Globalization;
using System.Text;
using static Mtt.Benchmarks.Load.LoadReport;

namespace Mtt.Benchmarks.Load;

/// <summary>The `latency` part of a report: every run, then per target the pooled percentiles and their ratios to the floor.</summary>
internal static class LatencyReportSection
{
    /// <summary>Per target: percentiles of <paramref name="sortedSamples"/> (all its runs, sorted); a tunnel's divided by the floor's of the same TLS mode.</summary>
    public static List<LatencySummary> Summarise(List<LatencyMeasurement> latency, IReadOnlyList<LeanTarget> targets, long[][] sortedSamples)
    {
        var percentiles = new LatencyPercentiles[targets.Count];
        for (int t = 0; t < targets.Count; t++) percentiles[t] = LatencyPercentiles.FromSorted(sortedSamples[t]);
        int floorIndex = -1;
        for (int t = 0; t < targets.Count; t++)
        {
            if (targets[t].Kind == "relay") floorIndex = t;
        }
        double MedianOf(string label, Func<LatencyMeasurement, double> value) => Median(latency.FindAll(m => m.Target == label).ConvertAll(m => value(m)));

        var summary = new List<LatencySummary>();
        for (int t = 0; t < targets.Count; t++)
        {
            var target = targets[t];
            double rate = MedianOf(target.Label, m => m.RoundTripsPerSecond);
            double cpu = MedianOf(target.Label, m => m.ServerCpuMicrosecondsPerRoundTrip);
            bool compare = target.Kind == "tunnel" && floorIndex >= 0;
            summary.Add(new LatencySummary(target.Label, target.Kind, latency.Count(m => m.Target == target.Label), sortedSamples[t].LongLength, percentiles[t], rate, cpu,
                compare ? percentiles[t].RatioTo(percentiles[floorIndex]) : null,
                compare ? rate / MedianOf(targets[floorIndex].Label, m => m.RoundTripsPerSecond) : null,
                compare ? cpu / MedianOf(targets[floorIndex].Label, m => m.ServerCpuMicrosecondsPerRoundTrip) : null));
        }
        return summary;
    }

    public static void AppendText(StringBuilder text, List<LatencyMeasurement> latency, List<LatencySummary> summary)
    {
        if (latency.Count == 0) return;
        var runs = new List<string[]> { new[] { "target", "run", "conns", "round trips", "s", "rt/s", "p50 µs", "p90 µs", "p99 µs", "p99.9 µs", "max µs", "srv CPU µs/rt", "client CPU s", "exact" } };
        foreach (var m in latency)
        {
            var p = m.Microseconds;
            runs.Add([m.Target, I(m.Run), I(m.Connections), I(m.Connections * m.RoundTripsPerConnection), F(m.Seconds, 2), F(m.RoundTripsPerSecond, 0),
                F(p.P50, 0), F(p.P90, 0), F(p.P99, 0), F(p.P999, 0), F(p.Max, 0), F(m.ServerCpuMicrosecondsPerRoundTrip, 1), F(m.ClientCpuSeconds, 2), m.Exact ? "yes" : "NO: " + m.Fault]);
        }
        AppendTable(text, runs);
        text.AppendLine();
        var pooled = new List<string[]> { new[] { "target (all runs)", "samples", "p50 µs", "p90 µs", "p99 µs", "p99.9 µs", "max µs", "median rt/s", "median CPU µs/rt", "p50/p90/p99/p99.9/max vs floor", "rt/s vs floor", "CPU/rt vs floor" } };
        foreach (var s in summary)
        {
            var p = s.Microseconds;
            pooled.Add([s.Target, s.Samples.ToString(CultureInfo.InvariantCulture), F(p.P50, 0), F(p.P90, 0), F(p.P99, 0), F(p.P999, 0), F(p.Max, 0), F(s.MedianRoundTripsPerSecond, 0),
                F(s.MedianServerCpuMicrosecondsPerRoundTrip, 1), Ratios(s.RatioToFloor, "x"), Ratio(s.RoundTripsPerSecondRatioToFloor, "x"), Ratio(s.CpuPerRoundTripRatioToFloor, "x")]);
        }
        AppendTable(text, pooled);
    }

    public static void AppendMarkdown(StringBuilder md, List<LatencyMeasurement> latency, List<LatencySummary> summary)
    {
        if (latency.Count == 0) return;
        var first = latency[0];
        md.AppendLine(CultureInfo.InvariantCulture,
            $"{first.Connections} connections × {first.RoundTripsPerConnection:N0} round trips of {first.MessageSize} bytes per run, one in flight per connection{(first.Rate is { } r ? $", {r:N0} round trips/s in all" : ", back to back")}; percentiles over all runs:");
        md.AppendLine();
        md.AppendLine("| target | samples | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs | ÷ floor (p50 / p90 / p99 / p99.9 / max) | round trips/s (median) | ÷ floor | server CPU µs / round trip | ÷ floor |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var s in summary)
        {
            var p = s.Microseconds;
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {s.Target} | {s.Samples:N0} | {F(p.P50, 0)} | {F(p.P90, 0)} | {F(p.P99, 0)} | {F(p.P999, 0)} | {F(p.Max, 0)} | {Ratios(s.RatioToFloor, "×")} | {F(s.MedianRoundTripsPerSecond, 0)} | {Ratio(s.RoundTripsPerSecondRatioToFloor, "×")} | {F(s.MedianServerCpuMicrosecondsPerRoundTrip, 1)} | {Ratio(s.CpuPerRoundTripRatioToFloor, "×")} |");
        }
    }

    private static string Ratios(LatencyPercentiles? ratio, string sign) =>
        ratio is { } r ? $"{F(r.P50, 2)} / {F(r.P90, 2)} / {F(r.P99, 2)} / {F(r.P999, 2)} / {F(r.Max, 2)}{sign}" : "-";

    private static string Ratio(double? ratio, string sign) => ratio is { } r ? F(r, 2) + sign : "-";
}
