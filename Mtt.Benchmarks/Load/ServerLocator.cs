namespace Mtt.Benchmarks.Load;

/// <summary>Finds the built programs the harness starts: the daemon and this harness's own assembly.</summary>
internal static class ServerLocator
{
    private const string SolutionFile = "MosTlsTunnel.sln";
    private const string ReleaseDaemon = "Mtt.Daemon/bin/Release/net10.0/mtt-mu-server.dll";

    /// <summary>The Release build of mtt-mu-server.dll in the solution this harness was built from.</summary>
    public static string FindDaemon()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (!File.Exists(Path.Combine(dir.FullName, SolutionFile))) continue;
                string candidate = Path.Combine(dir.FullName, ReleaseDaemon);
                if (File.Exists(candidate)) return candidate;
                throw new FileNotFoundException($"no Release build of the daemon at {candidate}; run `dotnet build {SolutionFile} -c Release` or pass --server");
            }
        }
        throw new FileNotFoundException($"cannot find {SolutionFile} above {AppContext.BaseDirectory}; pass --server");
    }

    /// <summary>The file name and leading arguments that run <paramref name="program"/>: `dotnet x.dll` for an assembly, the file itself otherwise.</summary>
    public static (string FileName, List<string> Arguments) CommandFor(string program) =>
        program.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
            ? ("dotnet", [Path.GetFullPath(program)])
            : (Path.GetFullPath(program), []);

    public static string HarnessAssembly => typeof(ServerLocator).Assembly.Location;
}
