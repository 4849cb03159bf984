using System.Text.RegularExpressions;
using Mtt.Benchmarks.Load;

namespace Mtt.Benchmarks.Cluster;

/// <summary>One mtt-mu-server process of the cluster benchmark, on ports the kernel picked, with its log lines.</summary>
internal sealed partial class Daemon : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private Daemon(ChildProcess process, int tunnel, int controller)
    {
        _process = process;
        Tunnel = tunnel;
        Controller = controller;
    }

    public int Tunnel { get; }

    public int Controller { get; }

    public static async Task<Daemon> StartAsync(string program, params string[] extra)
    {
        var (file, args) = ServerLocator.CommandFor(program);
        args.AddRange(["-b", "127.0.0.1:0", "-c", "127.0.0.1:0", .. extra]);
        var process = ChildProcess.Start("mtt-mu-server", file, args);
        var daemon = new Daemon(process, 0, 0);
        string tunnel = await daemon.WaitForLineAsync(TunnelLine());
        string controller = await daemon.WaitForLineAsync(ControllerLine());
        return new Daemon(process, int.Parse(TunnelLine().Match(tunnel).Groups[1].Value), int.Parse(ControllerLine().Match(controller).Groups[1].Value));
    }

    /// <summary>The first log line matching <paramref name="pattern"/> (polled: the harness times nothing by it).</summary>
    public async Task<string> WaitForLineAsync(Regex pattern)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            foreach (string line in _process.Lines)
            {
                var match = pattern.Match(line);
                if (match.Success) return match.Value;
            }
            await Task.Delay(10);
        }
        throw new TimeoutException($"no line like {pattern} in 60 s:\n{string.Join("\n", _process.Lines)}");
    }

    public IEnumerable<string> Lines => _process.Lines;

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    [GeneratedRegex(@"tunnel listener on [^ ]*:(\d+) ")]
    private static partial Regex TunnelLine();

    [GeneratedRegex(@"controller listening on [^ ]*:(\d+)")]
    private static partial Regex ControllerLine();
}
