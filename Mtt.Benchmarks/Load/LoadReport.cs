using System.Globalization;
using System.Text;

namespace Mtt.Benchmarks.Load;

/// <summary>Everything one `load` run found, written as a table plus a markdown fragment, or as JSON.</summary>
internal sealed class LoadReport
{
    // Log lines worth a reader's attention; the rest (start-up, per-connection detail) are counted only.
    private static readonly string[] NotableMarks = [" WARN ", " ERROR ", "Unhandled", "Exception", "[harness]"];
    private const int NotableLinesKept = 20;

    public required string Scenario { get; init; }

    public required MachineInfo Machine { get; init; }

    public required string Command { get; init; }

    public string HarnessOpenFilesLimit { get; set; } = ProcFs.ReadOpenFilesLimit("self");

    public string ServerOpenFilesLimit { get; set; } = "unknown";

    public List<BulkMeasurement> Bulk { get; } = [];

    public List<TargetSummary> Summary { get; } = [];

    public IdleMeasurement? Idle { get; set; }

    public List<ChurnMeasurement> Churn { get; } = [];

    public List<ChurnSummary> ChurnSummary { get; } = [];

    public List<LatencyMeasurement> Latency { get; } = [];

    public List<LatencySummary> LatencySummary { get; } = [];

    public List<AttackMeasurement> Attack { get; } = [];

    public AttackSummary? AttackSummary { get; set; }

    /// <summary>Every echo came back exact and every churned connection completed.</summary>
    public bool Succeeded => Bulk.TrueForAll(m => m.Exact) && Churn.TrueForAll(m => m.Failed == 0) && Latency.TrueForAll(m => m.Exact) && Attack.TrueForAll(m => m.Failed == 0);

    public Dictionary<string, int> LogLineCounts { get; } = [];

    public List<string> NotableLogLines { get; } = [];

    public void AddLog(ChildProcess process)
    {
        string name = $"{process.Name} (pid {process.Pid}, exit {process.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "?"})";
        LogLineCounts[name] = process.Lines.Count;
        int shown = 0;
        foreach (string line in process.Lines)
        {
            if (shown++ == NotableLinesKept)
            {
                Progress.Write($"  {process.Name}: ... {process.Lines.Count - NotableLinesKept} more lines");
                break;
            }
            Progress.Write($"  {process.Name}: {line}");
        }
        foreach (string line in process.Lines)
        {
            if (NotableLogLines.Count >= NotableLinesKept) break;
            foreach (string mark in NotableMarks)
            {
                if (!line.Contains(mark, StringComparison.Ordinal)) continue;
                NotableLogLines.Add($"{process.Name}: {line}");
                break;
            }
        }
    }

    /// <summary>Medians per target; a tunnel's CPU and throughput divided by the relay of the same TLS mode.</summary>
    public void Summarise()
    {
        var labels = new List<string>();
        foreach (var m in Bulk)
        {
            if (!labels.Contains(m.Target)) labels.Add(m.Target);
        }
        foreach (string label in labels)
        {
            var runs = Bulk.FindAll(m => m.Target == label);
            var floor = Bulk.FindAll(m => m.Kind == "relay" && m.Tls == runs[0].Tls);
            string? anchorKind = AnchorKindOf(runs[0].Kind);
            var anchor = Bulk.FindAll(m => m.Kind == anchorKind && m.Tls == runs[0].Tls);
            double mbps = Median(runs.ConvertAll(m => m.MegabytesPerSecond));
            double cpu = Median(runs.ConvertAll(m => m.ServerCpuSecondsPerGigabyte));
            bool compare = runs[0].Kind == "tunnel" && floor.Count > 0;
            bool toAnchor = anchor.Count > 0;
            Summary.Add(new TargetSummary(label, runs[0].Tls, runs.Count, mbps, cpu, runs.Max(m => m.RssMaxKiB),
                compare ? cpu / Median(floor.ConvertAll(m => m.ServerCpuSecondsPerGigabyte)) : null,
                compare ? mbps / Median(floor.ConvertAll(m => m.MegabytesPerSecond)) : null,
                toAnchor ? cpu / Median(anchor.ConvertAll(m => m.ServerCpuSecondsPerGigabyte)) : null,
                toAnchor ? mbps / Median(anchor.ConvertAll(m => m.MegabytesPerSecond)) : null));
        }
    }

    /// <summary>The Go anchor's target that a target of <paramref name="kind"/> is measured against: its tunnel, or its relay.</summary>
    internal static string? AnchorKindOf(string kind) => kind switch
    {
        "tunnel" => GoAnchorTarget.TunnelKind,
        "relay" => GoAnchorTarget.RelayKind,
        _ => null,
    };

    public string ToText()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"load {Scenario}: {Machine.ProcessorCount} CPUs ({Machine.CpuModel}), {Machine.Runtime}, {Machine.OperatingSystem}");
        text.AppendLine(CultureInfo.InvariantCulture, $"CLK_TCK {Machine.ClockTicksPerSecond}{(Machine.ClockTicksAssumed ? " (assumed)" : " (getconf)")}; open files soft/hard: harness {HarnessOpenFilesLimit}, server {ServerOpenFilesLimit}");
        text.AppendLine();
        if (Bulk.Count > 0)
        {
            var runs = new List<string[]> { new[] { "target", "run", "tunnels", "streams", "MB", "s", "MB/s", "srv CPU s", "CPU s/GB", "client CPU s", "srv ctx sw/MB", "RSS start/max/end MiB", "exact" } };
            foreach (var m in Bulk)
            {
                runs.Add([m.Target, I(m.Run), I(m.Tunnels), I(m.StreamsPerTunnel), F(m.Bytes / 1e6, 0), F(m.Seconds, 2), F(m.MegabytesPerSecond, 0), F(m.ServerCpuSeconds, 2),
                    F(m.ServerCpuSecondsPerGigabyte, 2), F(m.ClientCpuSeconds, 2), Calls(m), Rss(m), m.Exact ? "yes" : "NO: " + m.Fault]);
            }
            AppendTable(text, runs);
            text.AppendLine();
            var medians = new List<string[]> { new[] { "target", "runs", "median MB/s", "median CPU s/GB", "max RSS MiB", "CPU/GB vs floor", "MB/s vs floor", "CPU/GB vs Go", "MB/s vs Go" } };
            foreach (var s in Summary)
            {
                medians.Add([s.Target, I(s.Runs), F(s.MedianMegabytesPerSecond, 0), F(s.MedianServerCpuSecondsPerGigabyte, 2), F(s.MaxRssKiB / 1024.0, 1),
                    s.CpuPerGigabyteRatioToFloor is { } c ? F(c, 2) + "x" : "-", s.ThroughputRatioToFloor is { } t ? F(t, 2) + "x" : "-",
                    s.CpuPerGigabyteRatioToAnchor is { } ca ? F(ca, 2) + "x" : "-", s.ThroughputRatioToAnchor is { } ta ? F(ta, 2) + "x" : "-"]);
            }
            AppendTable(text, medians);
        }
        if (Idle is { } idle)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{idle.Connections} idle {IdleNoun(idle)}, opened in {idle.OpenSeconds:F1} s (backend dialled {idle.BackendsDialled} times), closed in {idle.CloseSeconds:F1} s");
            text.AppendLine(CultureInfo.InvariantCulture, $"  server RSS before (after {idle.WarmupConnections} warm-up {IdleNoun(idle)} one at a time) {idle.RssBeforeKiB:N0} KiB, open {idle.RssOpenKiB:N0} KiB, after close {idle.RssAfterKiB:N0} KiB (max seen {idle.RssMaxKiB:N0} KiB)");
            text.AppendLine(CultureInfo.InvariantCulture, $"  per connection {idle.KiBPerConnection:F1} KiB; after/before {idle.AfterBeforeRatio:F2}; threads {idle.ThreadsBefore}/{idle.ThreadsOpen}/{idle.ThreadsAfter}; backends still open {idle.BackendsLeftOpen}");
            text.AppendLine(CultureInfo.InvariantCulture, $"  server fds before {idle.FdsBefore}, open {idle.FdsOpenByCycle[0]}, after close {idle.FdsAfterByCycle[0]}{(idle.FdsLeaked ? $" LEAKED: more than {idle.FdSlack} over before after a cycle" : $" (back within {idle.FdSlack} of before after every cycle)")}");
            if (idle.RssOpenKiBByCycle.Count > 1)
            {
                for (int i = 0; i < idle.RssOpenKiBByCycle.Count; i++)
                    text.AppendLine(CultureInfo.InvariantCulture, $"  cycle {i + 1}: open {idle.RssOpenKiBByCycle[i]:N0} KiB, {idle.FdsOpenByCycle[i]} fds; after close {idle.RssAfterKiBByCycle[i]:N0} KiB, {idle.FdsAfterByCycle[i]} fds");
            }
        }
        ChurnReportSection.AppendText(text, Churn, ChurnSummary);
        LatencyReportSection.AppendText(text, Latency, LatencySummary);
        AttackReportSection.AppendText(text, Attack, AttackSummary);
        text.AppendLine();
        AppendLogs(text);
        text.AppendLine();
        text.AppendLine("markdown:");
        text.AppendLine();
        text.Append(ToMarkdown());
        return text.ToString();
    }

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"`{Command}` on {Machine.ProcessorCount} × {Machine.CpuModel}, {Machine.Runtime}:");
        md.AppendLine();
        if (Bulk.Count > 0)
        {
            md.AppendLine("| target | run | tunnels | streams | MB/s | server CPU s/GB | client CPU s | server context switches per MB | server RSS start / max / end (MiB) | exact |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
            foreach (var m in Bulk)
                md.AppendLine(CultureInfo.InvariantCulture, $"| {m.Target} | {m.Run} | {m.Tunnels} | {m.StreamsPerTunnel} | {F(m.MegabytesPerSecond, 0)} | {F(m.ServerCpuSecondsPerGigabyte, 2)} | {F(m.ClientCpuSeconds, 2)} | {Calls(m)} | {Rss(m)} | {(m.Exact ? "yes" : "NO")} |");
            md.AppendLine();
            md.AppendLine("| target | runs | median MB/s | median CPU s/GB | CPU/GB ÷ floor | MB/s ÷ floor | CPU/GB ÷ Go | MB/s ÷ Go |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var s in Summary)
                md.AppendLine(CultureInfo.InvariantCulture, $"| {s.Target} | {s.Runs} | {F(s.MedianMegabytesPerSecond, 0)} | {F(s.MedianServerCpuSecondsPerGigabyte, 2)} | {(s.CpuPerGigabyteRatioToFloor is { } c ? F(c, 2) + "×" : "–")} | {(s.ThroughputRatioToFloor is { } t ? F(t, 2) + "×" : "–")} | {(s.CpuPerGigabyteRatioToAnchor is { } ca ? F(ca, 2) + "×" : "–")} | {(s.ThroughputRatioToAnchor is { } ta ? F(ta, 2) + "×" : "–")} |");
        }
        if (Idle is { } idle)
        {
            md.AppendLine("| idle tunnels | server RSS before | with all open | after closing | per connection | after ÷ before | server fds before / open / after |");
            md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|");
            md.AppendLine(CultureInfo.InvariantCulture, $"| {idle.Connections} {IdleNoun(idle)} | {idle.RssBeforeKiB / 1024.0:F1} MiB | {idle.RssOpenKiB / 1024.0:F1} MiB | {idle.RssAfterKiB / 1024.0:F1} MiB | {idle.KiBPerConnection:F1} KiB | {idle.AfterBeforeRatio:F2} | {idle.FdsBefore} / {idle.FdsOpenByCycle[0]} / {idle.FdsAfterByCycle[0]} |");
            if (idle.RssOpenKiBByCycle.Count > 1)
            {
                md.AppendLine();
                md.AppendLine("| cycle | server RSS with all open | after closing | server fds open / after |");
                md.AppendLine("|---:|---:|---:|---:|");
                for (int i = 0; i < idle.RssOpenKiBByCycle.Count; i++)
                    md.AppendLine(CultureInfo.InvariantCulture, $"| {i + 1} | {idle.RssOpenKiBByCycle[i] / 1024.0:F1} MiB | {idle.RssAfterKiBByCycle[i] / 1024.0:F1} MiB | {idle.FdsOpenByCycle[i]} / {idle.FdsAfterByCycle[i]} |");
            }
        }
        ChurnReportSection.AppendMarkdown(md, Churn, ChurnSummary);
        LatencyReportSection.AppendMarkdown(md, Latency, LatencySummary);
        AttackReportSection.AppendMarkdown(md, Attack, AttackSummary);
        return md.ToString();
    }

    private void AppendLogs(StringBuilder text)
    {
        foreach (var (name, count) in LogLineCounts) text.AppendLine(CultureInfo.InvariantCulture, $"log of {name}: {count} lines");
        if (NotableLogLines.Count == 0) text.AppendLine("no WARN/ERROR/exception lines in the children's logs");
        foreach (string line in NotableLogLines) text.AppendLine("  " + line);
    }

    private static string IdleNoun(IdleMeasurement idle) =>
        $"{(idle.Tls ? "TLS" : "plain")} {(idle.SmuxVersion > 0 ? $"smux v{idle.SmuxVersion} sessions (1 stream each)" : "tunnels")}";

    private static string Calls(BulkMeasurement m) => F(m.ServerContextSwitchesPerMegabyte, 1);

    private static string Rss(BulkMeasurement m) => $"{m.RssStartKiB / 1024.0:F1} / {m.RssMaxKiB / 1024.0:F1} / {m.RssEndKiB / 1024.0:F1}";

    /// <summary>Columns padded to their widest cell, two spaces apart.</summary>
    internal static void AppendTable(StringBuilder text, List<string[]> rows)
    {
        var widths = new int[rows[0].Length];
        foreach (var row in rows)
        {
            for (int i = 0; i < row.Length; i++) widths[i] = Math.Max(widths[i], row[i].Length);
        }
        foreach (var row in rows)
        {
            var line = new StringBuilder();
            for (int i = 0; i < row.Length; i++) line.Append(row[i].PadRight(widths[i] + 2));
            text.AppendLine(line.ToString().TrimEnd());
        }
    }

    internal static string F(double value, int decimals) => value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    internal static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    internal static double Median(List<double> values)
    {
        values.Sort();
        int mid = values.Count / 2;
        return values.Count % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }
}
