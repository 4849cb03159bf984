using System.Globalization;
using System.Net.Http;
using System.Net.WebSockets;
using System.Text;
using Mtt.Tests.Support;

namespace Mtt.Tests.Hardening;

/// <summary>
/// Many concurrent TLS tunnels through the real daemon, opened, each echoing, held and closed: the
/// daemon's descriptors and memory come back (issue 5; the full-size run is `load idle --connections n`).
/// </summary>
public sealed class LoadTests
{
    // Enough to see a per-tunnel leak (2 descriptors or a few KiB each) above the noise, few enough for CI's 2 cores.
    private const int Tunnels = 600;

    // Handshakes in flight at once: the harness's figure; more only queues in the accept backlog.
    private const int ConnectParallelism = 32;

    // Descriptors the daemon may hold beyond its count before: a controller connection of the poll below, a runtime pipe.
    private const int FdSlack = 8;

    // The daemon gives memory back once the tunnels have ended (MemoryReturner, issue 6). Measured 2026-11-25: RSS after
    // closing these 600 tunnels and the trim was 8.5 MiB above before (it was 34 MiB without the trim: glibc arenas and
    // the GC heap kept for reuse). The bound leaves room for a busy machine and fails if the trim stops returning memory.
    private const long RssGrowthBoundKiB = 20 * 1024;

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ManyTlsTunnels_EchoExactly_AndOnceClosed_TheDaemonsDescriptorsAndMemoryComeBack()
    {
        await using var backend = new EchoBackend();
        await using var daemon = DaemonProcess.Start("-b", "127.0.0.1:0", "--c=127.0.0.1:0", "-force-tls", "-timeout=5m0s");
        var (tunnelPort, controllerPort) = await daemon.Ports.WaitAsync(Bound);
        using var http = new HttpClient();
        var body = $$"""{"opt":1,"args_bunch":[{"path":"/load","dst":"{{backend.Address}}"}]}""";
        var reply = await http.PostAsync($"http://127.0.0.1:{controllerPort}", new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded")).WaitAsync(Bound);
        Assert.Equal("""{"res":1}""", await reply.Content.ReadAsStringAsync());

        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = static (_, _, _, _) => true },
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        });
        var uri = new Uri($"wss://127.0.0.1:{tunnelPort}/load");

        // A first tunnel makes the daemon load and JIT what every tunnel needs: the baseline is a warm server.
        await EchoThroughAsync(await ConnectAsync(uri, invoker), 0, closeAfter: true);
        await WaitForActiveTunnelsAsync(http, controllerPort, 0);
        long rssBefore = ReadRssKiB(daemon.Pid);
        int fdsBefore = CountOpenFiles(daemon.Pid);

        var tunnels = new ClientWebSocket[Tunnels];
        try
        {
            using var gate = new SemaphoreSlim(ConnectParallelism);
            await Task.WhenAll(Enumerable.Range(0, Tunnels).Select(async i =>
            {
                await gate.WaitAsync();
                try
                {
                    tunnels[i] = await ConnectAsync(uri, invoker);
                    await EchoThroughAsync(tunnels[i], i, closeAfter: false);
                }
                finally
                {
                    gate.Release();
                }
            })).WaitAsync(Bound);

            await WaitForActiveTunnelsAsync(http, controllerPort, Tunnels);
            int fdsOpen = CountOpenFiles(daemon.Pid);
            Assert.True(fdsOpen >= fdsBefore + 2 * Tunnels, $"{Tunnels} tunnels open, but the daemon holds {fdsOpen} descriptors (before: {fdsBefore})");

            await Task.WhenAll(tunnels.Select(t => t.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None))).WaitAsync(Bound);
        }
        finally
        {
            foreach (var tunnel in tunnels) tunnel?.Dispose();
        }

        await WaitForActiveTunnelsAsync(http, controllerPort, 0);
        // 600 ended of a peak of 600 (over MemoryReturner's minimum of 256): the daemon gives the memory back and says so.
        await daemon.WaitForStderrAsync("memory returned: ").WaitAsync(Bound);
        int fdsAfter = await WaitForOpenFilesAtMostAsync(daemon.Pid, fdsBefore + FdSlack);
        Assert.True(fdsAfter <= fdsBefore + FdSlack, $"the daemon holds {fdsAfter} descriptors after every tunnel closed, {fdsBefore} before");
        long rssAfter = ReadRssKiB(daemon.Pid);
        Assert.True(rssAfter - rssBefore <= RssGrowthBoundKiB, $"the daemon's RSS grew from {rssBefore} to {rssAfter} KiB over {Tunnels} tunnels opened and closed");
        Assert.DoesNotContain("ERROR", daemon.Stderr);
    }

    private static async Task<ClientWebSocket> ConnectAsync(Uri uri, HttpMessageInvoker invoker)
    {
        var client = new ClientWebSocket();
        client.Options.AddSubProtocol("smux_off");
        client.Options.KeepAliveInterval = TimeSpan.Zero;
        try
        {
            await client.ConnectAsync(uri, invoker, CancellationToken.None).WaitAsync(Bound);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>A few bytes unique to the tunnel, echoed back byte for byte by the backend through the daemon.</summary>
    private static async Task EchoThroughAsync(ClientWebSocket tunnel, int index, bool closeAfter)
    {
        var sent = Encoding.ASCII.GetBytes($"tunnel {index:D5} says hello");
        await tunnel.SendAsync(sent, WebSocketMessageType.Binary, true, CancellationToken.None).WaitAsync(Bound);
        var received = new byte[sent.Length];
        int count = 0;
        while (count < received.Length)
        {
            var result = await tunnel.ReceiveAsync(received.AsMemory(count), CancellationToken.None).AsTask().WaitAsync(Bound);
            Assert.NotEqual(WebSocketMessageType.Close, result.MessageType);
            count += result.Count;
        }
        Assert.Equal(sent, received);
        if (!closeAfter) return;
        await tunnel.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).WaitAsync(Bound);
        tunnel.Dispose();
    }

    // The daemon is another process: its /metrics is the signal that it has counted every tunnel open or
    // closed; polled with a short pause, bounded.
    private static async Task WaitForActiveTunnelsAsync(HttpClient http, int controllerPort, int expected)
    {
        var deadline = DateTime.UtcNow + Bound;
        long active = -1;
        while (DateTime.UtcNow < deadline)
        {
            string metrics = await http.GetStringAsync($"http://127.0.0.1:{controllerPort}/metrics").WaitAsync(Bound);
            foreach (var line in metrics.Split('\n'))
            {
                if (line.StartsWith("mtt_tunnels_active ", StringComparison.Ordinal)) active = long.Parse(line.AsSpan("mtt_tunnels_active ".Length), CultureInfo.InvariantCulture);
            }
            if (active == expected) return;
            await Task.Delay(50);
        }
        Assert.Fail($"the daemon reported {active} active tunnels, not {expected}, within {Bound.TotalSeconds:0} s");
    }

    // A tunnel is counted closed just before its sockets are: the descriptors follow within moments.
    private static async Task<int> WaitForOpenFilesAtMostAsync(int pid, int limit)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        int open;
        while ((open = CountOpenFiles(pid)) > limit && DateTime.UtcNow < deadline) await Task.Delay(50);
        return open;
    }

    private static int CountOpenFiles(int pid) => Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;

    private static long ReadRssKiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        throw new InvalidOperationException($"no VmRSS for pid {pid}");
    }
}
