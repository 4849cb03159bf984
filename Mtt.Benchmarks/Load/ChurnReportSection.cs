using System.Globalization;
using System.Text;
using static Mtt.Benchmarks.Load.LoadReport;

namespace Mtt.Benchmarks.Load;

/// <summary>The `churn` part of a report: every run, then per target the medians and the ratios to the floor.</summary>
internal static class ChurnReportSection
{
    /// <summary>Medians per target; a tunnel's CPU per 1,000 connections and connections/s divided by the floor relay of the same TLS mode.</summary>
    public static List<ChurnSummary> Summarise(List<ChurnMeasurement> churn)
    {
        var summary = new List<ChurnSummary>();
        var labels = new List<string>();
        foreach (var m in churn)
        {
            if (!labels.Contains(m.Target)) labels.Add(m.Target);
        }
        foreach (string label in labels)
        {
            var runs = churn.FindAll(m => m.Target == label);
            var floor = churn.FindAll(m => m.Kind == "relay" && m.Tls == runs[0].Tls);
            string? anchorKind = AnchorKindOf(runs[0].Kind);
            var anchor = churn.FindAll(m => m.Kind == anchorKind && m.Tls == runs[0].Tls);
            double rate = Median(runs.ConvertAll(m => m.ConnectionsPerSecond));
            double cpu = Median(runs.ConvertAll(m => m.ServerCpuSecondsPerThousand));
            bool compare = runs[0].Kind == "tunnel" && floor.Count > 0;
            bool toAnchor = anchor.Count > 0;
            summary.Add(new ChurnSummary(label, runs[0].Tls, runs.Count, rate, cpu, runs.Max(m => m.RssMaxKiB), runs[^1].RssAfterKiB,
                compare ? cpu / Median(floor.ConvertAll(m => m.ServerCpuSecondsPerThousand)) : null,
                compare ? rate / Median(floor.ConvertAll(m => m.ConnectionsPerSecond)) : null,
                toAnchor ? cpu / Median(anchor.ConvertAll(m => m.ServerCpuSecondsPerThousand)) : null,
                toAnchor ? rate / Median(anchor.ConvertAll(m => m.ConnectionsPerSecond)) : null));
        }
        return summary;
    }

    public static void AppendText(StringBuilder text, List<ChurnMeasurement> churn, List<ChurnSummary> summary)
    {
        if (churn.Count == 0) return;
        var runs = new List<string[]> { new[] { "target", "run", "at once", "connections", "failed", "s", "conn/s", "srv CPU s", "CPU s/1000", "client CPU s", "backend dials", "conn ms p50/p99", "RSS before/max/end/settled MiB", "settled/before" } };
        foreach (var m in churn)
        {
            runs.Add([m.Target, I(m.Run), I(m.Concurrency), I(m.Connections), I(m.Failed), F(m.Seconds, 2), F(m.ConnectionsPerSecond, 0), F(m.ServerCpuSeconds, 2),
                F(m.ServerCpuSecondsPerThousand, 3), F(m.ClientCpuSeconds, 2), I(m.BackendDials), $"{F(m.ConnectionMillisecondsP50, 1)}/{F(m.ConnectionMillisecondsP99, 1)}", Rss(m), F(GivenBack(m), 2)]);
        }
        AppendTable(text, runs);
        foreach (var m in churn)
        {
            if (m.FirstFault is not null) text.AppendLine(CultureInfo.InvariantCulture, $"  {m.Target} run {m.Run}: {m.Failed} failed, first: {m.FirstFault}");
        }
        text.AppendLine();
        var medians = new List<string[]> { new[] { "target", "runs", "median conn/s", "median CPU s/1000", "max RSS MiB", "settled RSS MiB", "CPU/1000 vs floor", "conn/s vs floor", "CPU/1000 vs Go", "conn/s vs Go" } };
        foreach (var s in summary)
        {
            medians.Add([s.Target, I(s.Runs), F(s.MedianConnectionsPerSecond, 0), F(s.MedianServerCpuSecondsPerThousand, 3), F(s.MaxRssKiB / 1024.0, 1), F(s.LastRssAfterKiB / 1024.0, 1),
                Ratio(s.CpuPerThousandRatioToFloor, "x"), Ratio(s.ConnectionsPerSecondRatioToFloor, "x"), Ratio(s.CpuPerThousandRatioToAnchor, "x"), Ratio(s.ConnectionsPerSecondRatioToAnchor, "x")]);
        }
        AppendTable(text, medians);
    }

    public static void AppendMarkdown(StringBuilder md, List<ChurnMeasurement> churn, List<ChurnSummary> summary)
    {
        if (churn.Count == 0) return;
        md.AppendLine("| target | run | at once | connections (failed) | connections/s | server CPU s / 1,000 | client CPU s | connection ms p50 / p99 | server RSS before / max / end / settled (MiB) | settled ÷ before |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var m in churn)
        {
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {m.Target} | {m.Run} | {m.Concurrency} | {m.Connections:N0} ({m.Failed}) | {F(m.ConnectionsPerSecond, 0)} | {F(m.ServerCpuSecondsPerThousand, 3)} | {F(m.ClientCpuSeconds, 2)} | {F(m.ConnectionMillisecondsP50, 1)} / {F(m.ConnectionMillisecondsP99, 1)} | {Rss(m)} | {F(GivenBack(m), 2)} |");
        }
        md.AppendLine();
        md.AppendLine("| target | runs | median connections/s | median server CPU s / 1,000 | CPU ÷ floor | connections/s ÷ floor | CPU ÷ Go | connections/s ÷ Go | settled RSS after the last run |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var s in summary)
        {
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {s.Target} | {s.Runs} | {F(s.MedianConnectionsPerSecond, 0)} | {F(s.MedianServerCpuSecondsPerThousand, 3)} | {Ratio(s.CpuPerThousandRatioToFloor, "×")} | {Ratio(s.ConnectionsPerSecondRatioToFloor, "×")} | {Ratio(s.CpuPerThousandRatioToAnchor, "×")} | {Ratio(s.ConnectionsPerSecondRatioToAnchor, "×")} | {F(s.LastRssAfterKiB / 1024.0, 1)} MiB |");
        }
    }

    // Settled RSS after the churn over settled RSS before it: 1.00 when everything the churn took was given back.
    private static double GivenBack(ChurnMeasurement m) => (double)m.RssAfterKiB / m.RssBeforeKiB;

    private static string Rss(ChurnMeasurement m) =>
        $"{m.RssBeforeKiB / 1024.0:F1} / {m.RssMaxKiB / 1024.0:F1} / {m.RssEndKiB / 1024.0:F1} / {m.RssAfterKiB / 1024.0:F1}";

    private static string Ratio(double? ratio, string sign) => ratio is { } r ? F(r, 2) + sign : "-";
}
