using System.Globalization;
using System.Text;
using static Mtt.Benchmarks.Load.LoadReport;

namespace Mtt.Benchmarks.Load;

/// <summary>The `attack` part of a report: every phase, then the pooled percentiles quiet and under attack.</summary>
internal static class AttackReportSection
{
    public static void AppendText(StringBuilder text, List<AttackMeasurement> runs, AttackSummary? summary)
    {
        if (runs.Count == 0 || summary is null) return;
        var rows = new List<string[]> { new[] { "phase", "run", "clients", "failed", "p50 ms", "p99 ms", "max ms", "flood open", "flood reopened", "first fault" } };
        foreach (var m in runs)
        {
            rows.Add([m.Phase, I(m.Run), I(m.Clients), I(m.Failed), F(m.MillisecondsP50, 1), F(m.MillisecondsP99, 1), F(m.MillisecondsMax, 1),
                I(m.AttackOpen), m.AttackReopened.ToString(CultureInfo.InvariantCulture), m.FirstFault ?? ""]);
        }
        AppendTable(text, rows);
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"fresh-client handshake, all runs: quiet p50 {F(summary.QuietP50, 1)} ms, p99 {F(summary.QuietP99, 1)} ms; under attack p50 {F(summary.AttackP50, 1)} ms, p99 {F(summary.AttackP99, 1)} ms " +
            $"({Ratio(summary.AttackP50, summary.QuietP50)} / {Ratio(summary.AttackP99, summary.QuietP99)} of quiet); {summary.AttackFailed} failed under attack");
    }

    public static void AppendMarkdown(StringBuilder md, List<AttackMeasurement> runs, AttackSummary? summary)
    {
        if (runs.Count == 0 || summary is null) return;
        md.AppendLine(CultureInfo.InvariantCulture,
            $"Flood: {summary.SilentConnections:N0} silent and {summary.DrippingConnections:N0} dripping connections, {summary.PerAddress} per source address, reopened as the server drops them; fresh clients one after another, connect to 101:");
        md.AppendLine();
        md.AppendLine("| phase | run | fresh clients | failed | p50 ms | p99 ms | max ms | flood connections open | flood connections reopened |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var m in runs)
        {
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {m.Phase} | {m.Run} | {m.Clients} | {m.Failed} | {F(m.MillisecondsP50, 1)} | {F(m.MillisecondsP99, 1)} | {F(m.MillisecondsMax, 1)} | {m.AttackOpen:N0} | {m.AttackReopened:N0} |");
        }
        md.AppendLine();
        md.AppendLine("| all runs | p50 ms | p99 ms |");
        md.AppendLine("|---|---:|---:|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| quiet | {F(summary.QuietP50, 1)} | {F(summary.QuietP99, 1)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| under attack | {F(summary.AttackP50, 1)} | {F(summary.AttackP99, 1)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| attack ÷ quiet | {Ratio(summary.AttackP50, summary.QuietP50)} | {Ratio(summary.AttackP99, summary.QuietP99)} |");
    }

    private static string Ratio(double value, double baseline) => baseline > 0 ? F(value / baseline, 2) + "×" : "-";
}
