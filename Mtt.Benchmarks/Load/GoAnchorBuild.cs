using System.Diagnostics;
using System.Security.Cryptography;

namespace Mtt.Benchmarks.Load;

/// <summary>
/// Builds the Go anchor (Load/go/anchor/main.go, copied beside this assembly) with Debian's Go and the libraries
/// Debian packages under /usr/share/gocode (GO111MODULE=off: no module download, no vendored copy). The binary goes
/// to a temporary directory named after the source's hash, so an edited source is rebuilt and nothing is committed.
/// Shared with Mtt.Tests, whose interop test keeps the anchor building.
/// </summary>
internal static class GoAnchorBuild
{
    public const string GoPath = "/usr/share/gocode";

    // The first build compiles net/http and crypto/tls into the cache: a minute or two on a busy 2-core machine.
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);

    private static readonly SemaphoreSlim Lock = new(1, 1);
    private static string? _built;

    public static string SourceFile => Path.Combine(AppContext.BaseDirectory, "go", "anchor", "main.go");

    /// <summary>The path of the built anchor; builds it the first time. Throws with go's output when the build fails.</summary>
    public static async Task<string> BuildAsync(CancellationToken cancellationToken = default)
    {
        await Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_built is not null) return _built;
            string go = FindGo() ?? throw new InvalidOperationException(
                "Go is not installed: run .ci/install-test-prerequisites.sh (apt-get install golang-go golang-github-gorilla-websocket-dev golang-github-xtaci-smux-dev)");
            foreach (string package in new[] { "github.com/xtaci/smux", "github.com/gorilla/websocket" })
            {
                if (!Directory.Exists(Path.Combine(GoPath, "src", package)))
                    throw new InvalidOperationException($"{package} is not in {GoPath}: run .ci/install-test-prerequisites.sh");
            }

            byte[] source = await File.ReadAllBytesAsync(SourceFile, cancellationToken).ConfigureAwait(false);
            string hash = Convert.ToHexString(SHA256.HashData(source))[..16].ToLowerInvariant();
            string directory = Path.Combine(Path.GetTempPath(), "mtt-go-anchor", hash);
            string binary = Path.Combine(directory, "anchor");
            if (File.Exists(binary)) return _built = binary;

            Directory.CreateDirectory(directory);
            // Built under a name of its own, then moved: another process building at once never runs half a file.
            string partial = Path.Combine(directory, $"anchor.{Environment.ProcessId}.partial");
            var start = new ProcessStartInfo(go)
            {
                WorkingDirectory = Path.GetDirectoryName(SourceFile)!,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string argument in new[] { "build", "-o", partial, "main.go" }) start.ArgumentList.Add(argument);
            start.Environment["GO111MODULE"] = "off";
            start.Environment["GOPATH"] = GoPath;
            start.Environment["GOFLAGS"] = "";
            start.Environment["GOCACHE"] = Path.Combine(Path.GetTempPath(), "mtt-go-anchor", "cache");
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            try
            {
                await process.WaitForExitAsync(cancellationToken).WaitAsync(BuildTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                process.Kill(entireProcessTree: true);
                throw;
            }
            string output = (await stdout.ConfigureAwait(false) + await stderr.ConfigureAwait(false)).Trim();
            if (process.ExitCode != 0) throw new InvalidOperationException($"go build of the anchor failed ({process.ExitCode}): {output}");
            File.Move(partial, binary, overwrite: true);
            return _built = binary;
        }
        finally
        {
            Lock.Release();
        }
    }

    private static string? FindGo()
    {
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/lib/go/bin"))
        {
            if (directory.Length == 0) continue;
            string candidate = Path.Combine(directory, "go");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
