using System.Diagnostics;
using Mtt.Tests.Support;

namespace Mtt.Tests.Packaging;

/// <summary>
/// <c>build.ps1 package</c> run once for the package tests (both runtimes, a few minutes on two cores), into a
/// directory of its own; its files are what a release ships.
/// </summary>
public sealed class ReleaseFiles : IDisposable
{
    private static readonly TimeSpan BuildBound = TimeSpan.FromMinutes(12);
    private readonly TemporaryDirectory _output = new();

    public ReleaseFiles()
    {
        RepositoryRoot = FindRepositoryRoot();
        var (exitCode, output) = Run("dotnet", ["pwsh", Path.Combine(RepositoryRoot, "build.ps1"), "package", "linux-x64", "linux-arm64", "-Output", _output.Path], RepositoryRoot, BuildBound);
        BuildLog = output;
        if (exitCode != 0) throw new InvalidOperationException($"build.ps1 package failed ({exitCode}); run .ci/install-test-prerequisites.sh first:\n{output}");
        Version = System.IO.File.ReadAllText(Path.Combine(RepositoryRoot, "Directory.Build.props")).Split("<VersionPrefix>")[1].Split('<')[0];
    }

    public string RepositoryRoot { get; }

    public string Directory => _output.Path;

    public string BuildLog { get; }

    public string Version { get; }

    public string File(string name) => Path.Combine(_output.Path, name);

    /// <summary>Runs a command to its end (bounded), returning its exit code and its stdout and stderr together.</summary>
    public static (int ExitCode, string Output) Run(string command, IEnumerable<string> args, string? workingDirectory = null, TimeSpan? bound = null)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        foreach (string arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(bound ?? TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} {string.Join(' ', args)} did not finish in time");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(directory.FullName, "MosTlsTunnel.sln"))) return directory.FullName;
        }
        throw new InvalidOperationException("the tests run outside the repository: no MosTlsTunnel.sln above " + AppContext.BaseDirectory);
    }

    public void Dispose() => _output.Dispose();
}

[CollectionDefinition(Name)]
public sealed class ReleaseFilesCollection : ICollectionFixture<ReleaseFiles>
{
    public const string Name = "release files";
}
