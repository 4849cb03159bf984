using System.Net.Http;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Mtt.Tests.Support;

namespace Mtt.Tests.Daemon;

/// <summary>
/// A stderr that stops taking lines (journald behind, a pipe nobody reads) costs log lines, never tunnels: the daemon's
/// lines go through a bounded queue with a writer thread of its own, dropped lines are counted, and one line says how
/// many once stderr is read again.
/// </summary>
public sealed partial class DaemonStalledStderrTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    // fcntl(2): the pipe's capacity; one page is the least the kernel allows, so few lines fill it.
    private const int SetPipeSize = 1031;
    private const int Tunnels = 4;

    [Fact]
    public async Task StderrNobodyReads_NewTunnelsStillEcho_AndTheDroppedLinesAreReportedOnceItIsRead()
    {
        await using var backend = new EchoBackend();
        using var directory = new TemporaryDirectory();
        string fifo = directory.File("stderr");
        await StderrFifo.MakeAsync(fifo).WaitAsync(Bound);

        await using var daemon = DaemonProcess.StartWithStderrTo(fifo, new Dictionary<string, string>(), "-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-verbose");
        // Opening the reading end lets bash's redirection open the writing end, and the daemon start.
        await using var stream = await Task.Run(() => new FileStream(fifo, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1)).WaitAsync(Bound);
        Assert.True(SetCapacity(stream.SafeFileHandle.DangerousGetHandle().ToInt32(), SetPipeSize, 4096) >= 0, $"F_SETPIPE_SZ failed: {Marshal.GetLastPInvokeError()}");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        int tunnelPort = 0, controllerPort = 0;
        while (tunnelPort == 0 || controllerPort == 0)
        {
            string line = await reader.ReadLineAsync().WaitAsync(Bound) ?? throw new InvalidOperationException("the daemon's stderr ended");
            if (TunnelLine().Match(line) is { Success: true } tunnel) tunnelPort = int.Parse(tunnel.Groups[1].Value);
            if (ControllerLine().Match(line) is { Success: true } controller) controllerPort = int.Parse(controller.Groups[1].Value);
        }

        // From here nobody reads stderr. Refusals with -verbose make lines until the pipe and the queue are full.
        using var http = new HttpClient { Timeout = Bound };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        long dropped = 0;
        for (int batch = 0; dropped == 0; batch++)
        {
            Assert.True(batch < 100, "no log line was dropped after 100 batches of refusals");
            await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => RefuseAsync(tunnelPort, 40))).WaitAsync(timeout.Token);
            dropped = await DaemonClient.CounterAsync(http, controllerPort, "mtt_log_lines_dropped_total").WaitAsync(timeout.Token);
        }

        // Stderr is still stalled: a user added, and fresh tunnels (each logs its open and close) echo.
        Assert.Equal("""{"res":1}""", await DaemonClient.CommandAsync(http, controllerPort,
            $$"""{"opt":1,"args_bunch":[{"path":"/stalled-log-user","dst":"{{backend.Address}}"}]}""").WaitAsync(Bound));
        using (var echoes = new CancellationTokenSource(Bound))
        {
            await Task.WhenAll(Enumerable.Range(0, Tunnels).Select(_ => DaemonClient.EchoThroughNewTunnelAsync(tunnelPort, "/stalled-log-user", 4096, echoes.Token)));
        }
        Assert.True(await DaemonClient.CounterAsync(http, controllerPort, "mtt_log_lines_dropped_total") >= dropped);

        // Reading again: the lines queued come out, and one warning counts what was lost where the gap is.
        string notice;
        while (true)
        {
            string line = await reader.ReadLineAsync().WaitAsync(Bound) ?? throw new InvalidOperationException("no notice of dropped lines");
            if (!line.Contains("log lines dropped", StringComparison.Ordinal)) continue;
            notice = line;
            break;
        }
        var match = Notice().Match(notice);
        Assert.True(match.Success, notice);
        Assert.True(long.Parse(match.Groups[1].Value) >= dropped, notice);

        await daemon.TerminateAsync();
        var drained = Task.Run(async () => { while (await reader.ReadLineAsync() is not null) { } });
        Assert.Equal(0, await daemon.WaitForExitAsync(Bound));
        await drained.WaitAsync(Bound);
    }

    // A path with no user: 404, and with -verbose a line naming it.
    private static async Task RefuseAsync(int tunnelPort, int count)
    {
        for (int i = 0; i < count; i++)
        {
            await using var client = await RawWebSocketClient.ConnectAsync(tunnelPort);
            Assert.Equal(404, (await client.UpgradeAsync("/nobody-here").WaitAsync(Bound)).Status);
        }
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int SetCapacity(int descriptor, int command, int size);

    [GeneratedRegex(@"tunnel listener on [^ ]*:(\d+) ")]
    private static partial Regex TunnelLine();

    [GeneratedRegex(@"controller listening on [^ ]*:(\d+)")]
    private static partial Regex ControllerLine();

    [GeneratedRegex(@"^\S+ WARN (\d+) log lines dropped: stderr did not keep up$")]
    private static partial Regex Notice();
}
