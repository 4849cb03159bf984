using System.Diagnostics;
using System.Runtime.InteropServices;
using Mtt.Tests.Support;

namespace Mtt.Tests.Trimming;

/// <summary>
/// <c>build.ps1 publish</c> trims the server, and the trimmer once deleted the exit of the lock that the last
/// connection took in an async <c>finally</c>: SIGTERM then hung the drain (docs/trimmed-publish-lock-hang.md).
/// A probe of that shape, published trimmed with the repository's settings, must leave its lock free.
/// </summary>
[Collection(TrimmedPublish.Name)]
public sealed class TrimmedPublishTests
{
    // A trimmed publish runs the trimmer over the whole runtime: about a minute on two busy cores.
    private static readonly TimeSpan PublishBound = TimeSpan.FromMinutes(8);
    private static readonly TimeSpan ProbeBound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TrimmedPublish_KeepsTheExitOfALockTakenInAnAsyncFinally()
    {
        using var work = new TemporaryDirectory();
        string output = work.File("out");
        var publish = await RunAsync("dotnet", PublishBound,
            "publish", ProbeProject(), "-c", "Release", "-r", RuntimeInformation.RuntimeIdentifier,
            "--self-contained", "true", "-p:PublishTrimmed=true",
            // Everything the build writes goes to the temporary directory, and no build server outlives the test.
            "--artifacts-path", work.File("artifacts"), "-o", output, "-nodeReuse:false", "-p:UseSharedCompilation=false");
        Assert.True(publish.ExitCode == 0, $"dotnet publish of the probe failed (exit {publish.ExitCode}):\n{publish.Output}");

        var probe = await RunAsync(Path.Combine(output, "trim-probe"), ProbeBound);

        Assert.True(probe.ExitCode == 0 && probe.Output == "released",
            $"the trimmed probe left its lock held (exit {probe.ExitCode}, '{probe.Output}'): the trimmer dropped the lock's exit from the async finally");
    }

    private static string ProbeProject()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "Mtt.Tests", "Trimming", "Probe", "TrimProbe.csproj");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"Mtt.Tests/Trimming/Probe/TrimProbe.csproj not found above {AppContext.BaseDirectory}: this test runs from a source checkout");
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string executable, TimeSpan bound, params string[] arguments)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(bound);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, (await stdout + await stderr).Trim());
    }
}
