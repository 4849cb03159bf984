using System.Runtime.InteropServices;
using System.Text.Json;

namespace Mtt.Benchmarks.Load;

/// <summary>
/// `load &lt;scenario&gt; [options]`: end-to-end load on the real server, started as a separate process.
/// Children are stopped on every way out: normal end, exception, Ctrl+C, SIGTERM.
/// </summary>
internal static class LoadCommand
{
    public const string Verb = "load";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 2 || args[1] is "-h" or "--help")
        {
            Console.Error.WriteLine(LoadOptions.Usage);
            return args.Length < 2 ? 2 : 0;
        }
        if (args[1] == RelayFloor.Mode) return await RelayFloor.RunAsync(args[2..]).ConfigureAwait(false);

        LoadOptions options;
        try
        {
            if (args[1] is not ("bulk" or "idle" or "floor" or "churn" or "latency" or "attack" or Soak.SoakScenario.Mode)) throw new ArgumentException($"unknown scenario {args[1]}");
            options = LoadOptions.Parse(args[1], args[2..]);
        }
        catch (Exception e) when (e is ArgumentException or FileNotFoundException)
        {
            Console.Error.WriteLine($"load: {e.Message}");
            Console.Error.WriteLine(LoadOptions.Usage);
            return 2;
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            Progress.Write("interrupted: stopping children");
            cancel.Cancel();
        };
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; cancel.Cancel(); });
        AppDomain.CurrentDomain.ProcessExit += (_, _) => ChildProcess.KillAll();

        var report = new LoadReport
        {
            Scenario = options.Scenario,
            Machine = MachineInfo.Read(),
            Command = $"dotnet run -c Release --project Mtt.Benchmarks -- {string.Join(' ', args)}",
        };
        try
        {
            Progress.Write($"server: {options.ServerPath}");
            switch (options.Scenario)
            {
                case Soak.SoakScenario.Mode:
                    return await Soak.SoakScenario.RunAsync(options, cancel.Token).ConfigureAwait(false);
                case "idle":
                    report.Idle = await IdleScenario.RunAsync(options, report, cancel.Token).ConfigureAwait(false);
                    break;
                case "churn":
                    report.Churn.AddRange(await ChurnScenario.RunAsync(options, report, cancel.Token).ConfigureAwait(false));
                    report.ChurnSummary.AddRange(ChurnReportSection.Summarise(report.Churn));
                    break;
                case "attack":
                    (var attackRuns, report.AttackSummary) = await AttackScenario.RunAsync(options, report, cancel.Token).ConfigureAwait(false);
                    report.Attack.AddRange(attackRuns);
                    break;
                case "latency":
                    report.Latency.AddRange(await LatencyScenario.RunAsync(options, report, cancel.Token).ConfigureAwait(false));
                    break;
                default:
                    report.Bulk.AddRange(await BulkScenario.RunAsync(options, options.Scenario == "floor", report, cancel.Token).ConfigureAwait(false));
                    report.Summarise();
                    break;
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            Progress.Write("cancelled");
            return 130;
        }
        catch (Exception e)
        {
            Progress.Write($"failed: {e}");
            return 1;
        }
        finally
        {
            ChildProcess.KillAll();
        }

        Console.Out.Write(options.Json ? JsonSerializer.Serialize(report, LoadJsonContext.Default.LoadReport) + Environment.NewLine : report.ToText());
        if (report.Idle is { FdsLeaked: true } idle)
        {
            Progress.Write($"failed: the server kept descriptors after its tunnels closed (before {idle.FdsBefore}, after {string.Join(", ", idle.FdsAfterByCycle)}; slack {idle.FdSlack})");
            return 1;
        }
        return report.Succeeded ? 0 : 1;
    }
}
