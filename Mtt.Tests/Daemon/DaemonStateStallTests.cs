using System.Diagnostics;
using System.Net.Http;
using System.Text.Json;
using Mtt.Tests.Support;

namespace Mtt.Tests.Daemon;

/// <summary>
/// A state file whose write hangs (a slow or stuck disk) holds up only the command that waits for it: tunnels open
/// and echo, other controller connections are answered, and the command's reply still says whether it was saved.
/// </summary>
public sealed class DaemonStateStallTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private const int Tunnels = 4;

    [Fact]
    public async Task AStalledStateWrite_DoesNotStallTunnelsOrReads_AndItsReplyComesOnceTheWriteEnds()
    {
        await using var backend = new EchoBackend();
        using var directory = new TemporaryDirectory();
        string state = directory.File("users.json");
        await using var daemon = DaemonProcess.Start("-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-state", state);
        var (tunnelPort, controllerPort) = await daemon.Ports.WaitAsync(Bound);
        using var http = new HttpClient { Timeout = Bound };
        Assert.Equal("""{"res":1}""", await DaemonClient.CommandAsync(http, controllerPort,
            $$"""{"opt":1,"args_bunch":[{"path":"/before","dst":"{{backend.Address}}"}]}"""));

        // The next save opens its temporary file for writing: a FIFO there blocks that open until someone reads it.
        string temporary = state + ".tmp";
        await StderrFifo.MakeAsync(temporary).WaitAsync(Bound);
        var stalled = DaemonClient.CommandAsync(http, controllerPort, $$"""{"opt":1,"args_bunch":[{"path":"/during","dst":"{{backend.Address}}"}]}""");

        // The daemon is inside the save: a thread of it waits in the FIFO's open.
        await WaitForFifoOpenAsync(daemon.Pid).WaitAsync(Bound);
        Assert.False(stalled.IsCompleted);

        // Meanwhile: fresh tunnels echo, and reads on other controller connections are answered from the table as it was.
        using (var echoes = new CancellationTokenSource(Bound))
        {
            await Task.WhenAll(Enumerable.Range(0, Tunnels).Select(_ => DaemonClient.EchoThroughNewTunnelAsync(tunnelPort, "/before", 4096, echoes.Token)));
        }
        for (int i = 0; i < Tunnels; i++)
        {
            using var fresh = new HttpClient { Timeout = Bound };
            using var ping = JsonDocument.Parse(await DaemonClient.CommandAsync(fresh, controllerPort, """{"opt":9}"""));
            Assert.Equal(1, ping.RootElement.GetProperty("res").GetInt32());
            using var list = JsonDocument.Parse(await DaemonClient.CommandAsync(fresh, controllerPort, """{"opt":4}"""));
            Assert.Equal(1, list.RootElement.GetProperty("res").GetInt32());
        }
        Assert.False(stalled.IsCompleted);

        // The write goes on once the FIFO is read; the reply then reports the save, as it always has.
        // cat, not a FileStream: .NET's reader would take a shared flock(2) first, and the save's exclusive one then fail.
        using var cat = Process.Start(new ProcessStartInfo("cat", [temporary]) { RedirectStandardOutput = true })!;
        string written = await cat.StandardOutput.ReadToEndAsync().WaitAsync(Bound);
        Assert.Contains("/during", written);
        Assert.Equal("""{"res":1}""", await stalled.WaitAsync(Bound));

        // The next change writes a regular file again, holding both users, and the daemon serves on.
        Assert.Equal("""{"res":1}""", await DaemonClient.CommandAsync(http, controllerPort,
            $$"""{"opt":1,"args_bunch":[{"path":"/after","dst":"{{backend.Address}}"}]}"""));
        string saved = await File.ReadAllTextAsync(state);
        Assert.Contains("/before", saved);
        Assert.Contains("/during", saved);
        Assert.Contains("/after", saved);
        await DaemonClient.EchoThroughNewTunnelAsync(tunnelPort, "/during", 4096, new CancellationTokenSource(Bound).Token);
    }

    // A thread of the daemon is blocked opening a FIFO that has no reader (the kernel's wait_for_partner, fs/pipe.c).
    // /proc notifies nobody of that, so the condition is read every 20 ms, bounded: an observation, not a guess at a delay.
    private static async Task WaitForFifoOpenAsync(int pid)
    {
        var deadline = Stopwatch.StartNew();
        while (!Directory.EnumerateDirectories($"/proc/{pid}/task").Any(task => ReadOrEmpty(Path.Combine(task, "wchan")) == "wait_for_partner"))
        {
            Assert.True(deadline.Elapsed < Bound, "no thread of the daemon is opening the state file's temporary file");
            await Task.Delay(20);
        }
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The thread ended between the listing and the read.
            return "";
        }
    }
}
