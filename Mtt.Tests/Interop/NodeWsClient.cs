using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mtt.Tests.Interop;

/// <summary>Runs Mtt.Tests/Interop/node/echo-client.mjs (Node's ws package) with one JSON argument and reads its RESULT line.</summary>
public static class NodeWsClient
{
    // The script gives up on its own after 45 s; this only catches a node that hangs regardless.
    private static readonly TimeSpan ProcessBound = TimeSpan.FromSeconds(60);
    private const string ResultPrefix = "RESULT ";

    /// <summary>Starts the client before returning, so a test can act (on a backend, say) while it runs.</summary>
    public static Task<NodeWsRun> RunAsync(JsonObject options) => RunScriptAsync("echo-client.mjs", options);

    /// <summary>Runs another script of Mtt.Tests/Interop/node that prints the same RESULT line.</summary>
    public static Task<NodeWsRun> RunScriptAsync(string script, JsonObject options)
    {
        string node = InteropAssets.RequireNodeWithWs();
        var start = new ProcessStartInfo(node)
        {
            WorkingDirectory = InteropAssets.NodeDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(options.ToJsonString());
        var process = Process.Start(start)!;
        return CompleteAsync(process);
    }

    private static async Task<NodeWsRun> CompleteAsync(Process process)
    {
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            try
            {
                await process.WaitForExitAsync().WaitAsync(ProcessBound);
            }
            catch (TimeoutException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }
            string output = (await stdout + await stderr).Trim();
            string? line = output.Split('\n').FirstOrDefault(l => l.StartsWith(ResultPrefix, StringComparison.Ordinal));
            Assert.True(line is not null, $"node printed no result line (exit {process.ExitCode}): {output}");
            using var document = JsonDocument.Parse(line![ResultPrefix.Length..]);
            return new NodeWsRun(process.ExitCode, output, document.RootElement.Clone());
        }
    }
}
