using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Mtt.Core.Diagnostics;
using Mtt.Tests.Support;
using Xunit.Abstractions;

namespace Mtt.Tests.Hardening;

/// <summary>
/// Issue 12's load: thousands of connections that send nothing, or drip a ClientHello, and stay; fresh clients
/// must still be served within their normal handshake time, measured first in the same test.
/// </summary>
public sealed class SilentFloodLoadTests(ITestOutputHelper output)
{
    private const int Silent = 5_000;
    private const int Dripping = 1_000;
    // Attack connections per source address (127.1.0.x): under the default -max-pending-per-ip of 64, so the flood
    // is in place rather than refused; the limit itself is checked at the end.
    private const int PerAddress = 40;
    private const int ConnectParallelism = 64;
    private const int FreshClients = 9;
    // Each dripping connection gets one byte per second: a quarter of them every 250 ms.
    private static readonly TimeSpan DripTick = TimeSpan.FromMilliseconds(250);
    // Half the handshake timeout: a fresh client that waited this long would have been shut out.
    private static readonly TimeSpan FreshBound = TimeSpan.FromSeconds(5);
    // The normal handshake time, with room for a busy 2-core machine: ten times the median before the attack, at least 1 s.
    private const int SlowdownAllowed = 10;
    private static readonly TimeSpan Floor = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    // The flood stays for the whole test: no timeout of the server may clear it.
    private static readonly TimeSpan NoTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task FiveThousandSilentAndAThousandDrippingConnections_LeaveFreshClientsTheirNormalHandshakeTime()
    {
        var test = Stopwatch.StartNew();
        await using var server = LimitedServer.Start(tls: true, handshakeTimeout: NoTimeout, firstByteTimeout: NoTimeout);
        byte[] hello = await CapturedClientHello.CaptureAsync();
        await server.AssertServesAsync(Bound);
        var before = await MeasureFreshClientsAsync(server);

        var attack = new List<Socket>(Silent + Dripping + 70);
        using var stopDripping = new CancellationTokenSource();
        Task dripping = Task.CompletedTask;
        try
        {
            await OpenAsync(server.Port, attack, 0, Silent, null);
            await OpenAsync(server.Port, attack, Silent, Dripping, hello[..(hello.Length / 2)]);
            dripping = DripAsync(attack.GetRange(Silent, Dripping), hello, stopDripping.Token);

            var during = await MeasureFreshClientsAsync(server);

            var allowed = TimeSpan.FromTicks(Math.Max(Floor.Ticks, SlowdownAllowed * Median(before).Ticks));
            string figures = $"fresh-client handshakes before the flood: {Describe(before)}; during it: {Describe(during)}";
            output.WriteLine(figures);
            Assert.True(Median(during) <= allowed, $"{figures}: the median is over {allowed.TotalMilliseconds:0} ms");
            // Every attack connection was accepted before the fresh clients (one accept queue) and is still open.
            Assert.True(server.Listener.ActiveConnections >= Silent + Dripping, $"{server.Listener.ActiveConnections} connections open: the flood was not in place");
            Assert.Equal(0, server.Metrics.Refused(HandshakeRefusal.PendingPerAddress));
            Assert.False(dripping.IsCompleted, "the dripping stopped early");

            // The per-address limit holds in the flood: one address's 65th connection is closed at once.
            var single = IPAddress.Parse("127.2.0.1");
            for (int i = 0; i < 64; i++) attack.Add(await ConnectAsync(single, server.Port).WaitAsync(Bound));
            using (var refused = await ConnectAsync(single, server.Port).WaitAsync(Bound))
            {
                Assert.Equal(0, await refused.ReceiveAsync(new byte[1].AsMemory(), SocketFlags.None).AsTask().WaitAsync(Bound));
            }
            Assert.Equal(1, server.Metrics.Refused(HandshakeRefusal.PendingPerAddress));
        }
        finally
        {
            await stopDripping.CancelAsync();
            await dripping.WaitAsync(Bound);
            foreach (var socket in attack) socket.Dispose();
        }
        await server.Listener.WhenNoConnections().WaitAsync(Bound);
        Assert.Equal(0, server.Listener.PendingAddresses);
        Assert.True(test.Elapsed < TimeSpan.FromSeconds(60), $"the load test took {test.Elapsed}");
    }

    /// <summary>Fresh clients one after another, each timed from connect to its 101, then echoing and closing.</summary>
    private static async Task<TimeSpan[]> MeasureFreshClientsAsync(LimitedServer server)
    {
        var times = new TimeSpan[FreshClients];
        for (int i = 0; i < times.Length; i++)
        {
            var clock = Stopwatch.StartNew();
            await using var client = await server.ConnectAsync().WaitAsync(FreshBound);
            var (status, head) = await client.UpgradeAsync(AttackedServer.UserPath).WaitAsync(FreshBound - clock.Elapsed);
            times[i] = clock.Elapsed;
            Assert.True(status == 101, head);
            await client.AssertEchoesThenClosesAsync("fresh", Bound);
        }
        return times;
    }

    /// <summary>Opens <paramref name="count"/> connections, <see cref="PerAddress"/> per source address, each sending <paramref name="first"/> if given.</summary>
    private static async Task OpenAsync(int port, List<Socket> into, int firstIndex, int count, byte[]? first)
    {
        var opened = new Socket[count];
        using var gate = new SemaphoreSlim(ConnectParallelism);
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                int address = (firstIndex + i) / PerAddress + 1;
                opened[i] = await ConnectAsync(new IPAddress([127, 1, (byte)(address >> 8), (byte)address]), port);
                if (first is not null) await opened[i].SendAsync(first, SocketFlags.None);
            }
            finally
            {
                gate.Release();
            }
        })).WaitAsync(Bound);
        into.AddRange(opened);
    }

    private static async Task<Socket> ConnectAsync(IPAddress from, int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new IPEndPoint(from, 0));
            await socket.ConnectAsync(IPAddress.Loopback, port);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// One more byte of the ClientHello's second half per connection per second, stopping a byte short of its end,
    /// so the record never completes: each byte is progress the server must look at, none is work to compute.
    /// </summary>
    private static async Task DripAsync(List<Socket> drippers, byte[] hello, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(DripTick);
        int next = hello.Length / 2;
        int round = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                int quarter = round++ % 4;
                for (int i = quarter; i < drippers.Count; i += 4) drippers[i].Send(hello.AsSpan(next, 1));
                if (quarter == 3 && next < hello.Length - 2) next++;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static TimeSpan Median(TimeSpan[] times)
    {
        var sorted = times.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    private static string Describe(TimeSpan[] times) =>
        $"median {Median(times).TotalMilliseconds:0.0} ms, max {times.Max().TotalMilliseconds:0.0} ms ({string.Join(", ", times.Select(t => t.TotalMilliseconds.ToString("0", System.Globalization.CultureInfo.InvariantCulture)))})";
}
