using System.Diagnostics;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using Mtt.Tests.Support;

namespace Mtt.Tests.Diagnostics;

/// <summary>
/// <c>dotnet-counters</c> (from the repository's tool manifest) reads the running daemon's <c>mtt-mu-server</c> meter
/// with no code of ours in between, as the README shows.
/// </summary>
public sealed class DotnetCountersTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task DotnetCountersCollect_ReadsTheMeterOfTheRunningDaemon()
    {
        using var directory = new TemporaryDirectory();
        await using var daemon = DaemonProcess.Start("-b", "127.0.0.1:0", "-c", "127.0.0.1:0");
        var (_, controllerPort) = await daemon.Ports.WaitAsync(Bound);
        using (var http = new HttpClient())
        {
            var body = new StringContent("""{"opt":1,"args_bunch":[{"path":"/c1","dst":"127.0.0.1:9"},{"path":"/c2","dst":"127.0.0.1:9"}]}""", Encoding.UTF8);
            using var reply = await http.PostAsync($"http://127.0.0.1:{controllerPort}/", body).WaitAsync(Bound);
            Assert.Equal("""{"res":1}""", await reply.Content.ReadAsStringAsync());
        }

        string output = directory.File("counters.json");
        // Three one-second reports, then it exits by itself.
        var (exitCode, log) = await RunAsync("collect", "-p", daemon.Pid.ToString(), "--counters", "mtt-mu-server", "--refresh-interval", "1",
            "--duration", "00:00:03", "--format", "json", "-o", output);
        Assert.True(exitCode == 0, $"dotnet-counters exited with {exitCode}:\n{log}");

        string text = File.ReadAllText(output);
        Assert.Contains("\"provider\": \"mtt-mu-server\"", text);
        using var report = JsonDocument.Parse(text);
        var events = report.RootElement.GetProperty("Events").EnumerateArray().ToList();
        Assert.All(events, e => Assert.Equal("mtt-mu-server", e.GetProperty("provider").GetString()));
        var users = events.Last(e => e.GetProperty("name").GetString()!.StartsWith("mtt.users", StringComparison.Ordinal));
        Assert.Equal(2, users.GetProperty("value").GetDouble());
        var names = events.Select(e => e.GetProperty("name").GetString()!.Split(' ')[0]).ToHashSet();
        foreach (var name in new[] { "mtt.tunnels.active", "mtt.tunnels.opened", "mtt.bytes.from_client", "mtt.handshakes.refused", "mtt.controller.commands" })
            Assert.Contains(name, names);
    }

    /// <summary>Runs <c>dotnet tool run dotnet-counters</c> from the repository, whose manifest pins it (restored by <c>dotnet tool restore</c>).</summary>
    private static async Task<(int ExitCode, string Log)> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = RepositoryRoot(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["tool", "run", "dotnet-counters", "--", .. args]) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(Bound);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        string log = await stdout + await stderr;
        Assert.False(log.Contains("Run \"dotnet tool restore\"", StringComparison.Ordinal), "dotnet-counters is not restored: run dotnet tool restore");
        return (process.ExitCode, log);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, ".config", "dotnet-tools.json"))) return directory.FullName;
        }
        throw new DirectoryNotFoundException("no .config/dotnet-tools.json above " + AppContext.BaseDirectory);
    }
}
