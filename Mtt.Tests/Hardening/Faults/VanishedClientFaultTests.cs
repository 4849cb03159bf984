using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Mtt.Tests.Support;

namespace Mtt.Tests.Hardening.Faults;

/// <summary>
/// Fault: the client vanishes without FIN or RST (a NAT forgot it, a laptop lid closed). On loopback a
/// socket cannot go silent by closing, so the client keeps it open and sends nothing, or stops reading.
/// The tunnels' timeouts run on a fake clock the tests move (<see cref="FaultyNetwork.AdvanceAsync"/>), so
/// no test waits them out, and the bystanders echo in every step of it.
/// </summary>
public sealed class VanishedClientFaultTests
{
    private static readonly TimeSpan Bound = FaultyNetwork.Bound;

    // On the fake clock: the bystanders are active in every step of it, whatever the machine's load.
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(3);

    // TunnelServerOptions.CloseHandshakeTimeout's default: how long a write to the client may go on once the
    // tunnel stops, and how long the server waits for the client's close.
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(2);

    // Sends fill the kernel's buffers in real time while the fake clock steps on: a stuck write may begin a few steps late.
    private static readonly TimeSpan FillSlack = TimeSpan.FromSeconds(3);

    /// <summary>Completes when the server has ended the backend connection: end of stream or a reset.</summary>
    private static async Task BackendEndedAsync(Socket backend)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (await backend.ReceiveAsync(buffer) > 0)
            {
            }
        }
        catch (SocketException)
        {
        }
    }

    /// <summary>Sends until the server closes the connection, as a backend with a lot to say does.</summary>
    private static async Task FloodAsync(Socket backend)
    {
        var chunk = new byte[64 * 1024];
        try
        {
            while (true) await backend.SendAsync(chunk);
        }
        catch (SocketException)
        {
        }
    }

    /// <summary>
    /// Moves the fake clock to just short of <paramref name="deadline"/>, where the tunnel must still be there,
    /// then past it: the server ends the tunnel, and its backend sees the end.
    /// </summary>
    private static async Task AssertReclaimedAtAsync(FaultyNetwork network, Task backendEnded, TimeSpan deadline)
    {
        await network.AdvanceAsync(deadline - FaultyNetwork.Step);
        Assert.False(backendEnded.IsCompleted, $"reclaimed before {deadline}");
        await network.AdvanceAsync(FaultyNetwork.Step);
        await backendEnded.WaitAsync(Bound);
    }

    /// <summary>
    /// Moves the fake clock until the tunnel is reclaimed: not before <paramref name="earliest"/> has passed on it,
    /// and within <paramref name="latest"/>.
    /// </summary>
    private static async Task AssertReclaimedWithinAsync(FaultyNetwork network, Task backendEnded, TimeSpan earliest, TimeSpan latest, Func<Task>? activity = null)
    {
        var moved = await network.AdvanceUntilAsync(backendEnded, latest, activity);
        await backendEnded.WaitAsync(Bound);
        Assert.True(moved >= earliest, $"reclaimed within {moved} on the tunnels' clock, before {earliest}");
    }

    [Fact]
    public async Task PlainTunnel_SilentClient_IsClosedAfterTheIdleTimeout_WithItsBackend_OthersLoseNothing()
    {
        await using var network = FaultyNetwork.Start(idleTimeout: IdleTimeout, time: new FakeTimeProvider());
        await network.StartBystandersAsync();
        var client = await network.PlainAsync(FaultyNetwork.BystanderPath);
        await client.SendBinaryAsync(new[] { EchoBackend.HandOver });
        var backend = await network.Backend.NextHandedOverAsync().AsTask().WaitAsync(Bound);
        await backend.SendAsync("hello"u8.ToArray());
        Assert.Equal("hello"u8.ToArray(), (await client.ReadFrameAsync().WaitAsync(Bound))!.Value.Payload);

        // The client neither sends nor answers from here on.
        var backendEnded = BackendEndedAsync(backend);
        await AssertReclaimedAtAsync(network, backendEnded, IdleTimeout);
        await network.BystandersAdvancedAsync();

        // What the client finds if it ever looks: close 1000, then the end once the server stopped waiting for its answer.
        Assert.Equal((ushort)1000, await client.ReadUntilCloseAsync().WaitAsync(Bound));
        var closed = client.IsClosedByServerAsync();
        await network.AdvanceAsync(CloseGrace - FaultyNetwork.Step);
        Assert.False(closed.IsCompleted, "the server did not wait for the client's close");
        // The wait began as the tunnel ended, a moment after the idle deadline in real time: on this clock, within a step.
        await network.AdvanceUntilAsync(closed, 2 * FaultyNetwork.Step);
        Assert.True(await closed.WaitAsync(Bound));
        await network.StopBystandersAndWaitForNoConnectionsAsync();
        Assert.Equal(0, network.Listener.ActiveConnections);
    }

    /// <summary>smux: a session with a stream open has no idle timeout; the keepalive timeout reclaims a silent client's session.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task SmuxSession_SilentClient_IsClosedAfterTheKeepAliveTimeout_WithItsStreamsBackends_OthersLoseNothing(byte version)
    {
        var keepAliveTimeout = TimeSpan.FromSeconds(3);
        var keepAliveInterval = TimeSpan.FromMilliseconds(500);
        await using var network = FaultyNetwork.Start(keepAliveInterval: keepAliveInterval, keepAliveTimeout: keepAliveTimeout, time: new FakeTimeProvider());
        await network.StartBystandersAsync();
        var session = await network.SmuxAsync(FaultyNetwork.BystanderPath, version);
        var stream = await session.OpenStreamAsync();
        await stream.WriteAsync(new[] { EchoBackend.HandOver });
        var backend = await network.Backend.NextHandedOverAsync().AsTask().WaitAsync(Bound);

        var backendEnded = BackendEndedAsync(backend);
        // The timeout is checked on the keepalive's ticks: the session ends at the first tick that finds the client
        // silent for the whole timeout, which is up to one interval after it (the client's last frame came between ticks).
        await AssertReclaimedWithinAsync(network, backendEnded, keepAliveTimeout, keepAliveTimeout + keepAliveInterval + FaultyNetwork.Step);
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, await session.Closed.WaitAsync(Bound));
        // The silent client does not answer our close either: the server waits the close grace for it, then lets go.
        await network.AdvanceAsync(CloseGrace);
        await network.BystandersAdvancedAsync();

        await network.StopBystandersAndWaitForNoConnectionsAsync();
    }

    /// <summary>
    /// Sends <paramref name="message"/> as a binary message every few milliseconds until the server drops
    /// the connection: a client that is never idle, so only the stuck write can tell it is not reading.
    /// </summary>
    private static async Task KeepSendingAsync(RawWebSocketClient client, byte[] message, SemaphoreSlim sent)
    {
        try
        {
            while (true)
            {
                await client.SendBinaryAsync(message);
                sent.Release();
                await Task.Delay(20);
            }
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A step of the fake clock waits for one more message of the client's, until its sending ends: it is never idle.</summary>
    private static Func<Task> OneMoreSend(SemaphoreSlim sent, Task sending) => () => Task.WhenAny(sent.WaitAsync(), sending);

    /// <summary>
    /// An smux_on session through a raw client: stream 3's SYN and one PSH carrying the hand-over byte, written by
    /// hand so that the client can then stop reading; returns the client and the stream's backend connection.
    /// </summary>
    private static async Task<(RawWebSocketClient Client, Socket Backend)> OpenRawSmuxStreamAsync(FaultyNetwork network, byte version)
    {
        var client = await network.PlainAsync(FaultyNetwork.BystanderPath, "smux_on");
        var frames = new byte[2 * SmuxTestClient.HeaderSize + 1];
        SmuxTestClient.WriteHeader(frames, version, SmuxTestClient.Syn, 0, 3);
        SmuxTestClient.WriteHeader(frames.AsSpan(SmuxTestClient.HeaderSize), version, SmuxTestClient.Psh, 1, 3);
        frames[^1] = EchoBackend.HandOver;
        await client.SendBinaryAsync(frames);
        return (client, await network.Backend.NextHandedOverAsync().AsTask().WaitAsync(Bound));
    }

    [Fact]
    public async Task PlainTunnel_ClientSendsButNeverReadsWhileTheBackendFloods_IsCutAfterTheIdleTimeoutOfNoWriteProgress()
    {
        await using var network = FaultyNetwork.Start(idleTimeout: IdleTimeout, time: new FakeTimeProvider());
        await network.StartBystandersAsync();
        var client = await network.PlainAsync(FaultyNetwork.BystanderPath);
        await client.SendBinaryAsync(new[] { EchoBackend.HandOver });
        var backend = await network.Backend.NextHandedOverAsync().AsTask().WaitAsync(Bound);

        // The backend takes all the client sends and floods back; the client reads nothing.
        var flood = FloodAsync(backend);
        var backendEnded = BackendEndedAsync(backend);
        using var sent = new SemaphoreSlim(0);
        var sending = KeepSendingAsync(client, new byte[1024], sent);
        // Cut without the write grace: the stuck write is aborted at once.
        await AssertReclaimedWithinAsync(network, backendEnded, IdleTimeout, IdleTimeout + FillSlack, OneMoreSend(sent, sending));
        await flood.WaitAsync(Bound);
        await sending.WaitAsync(Bound);
        await network.BystandersAdvancedAsync();

        Assert.True(await client.IsClosedByServerAsync().WaitAsync(Bound));
        await network.StopBystandersAndWaitForNoConnectionsAsync();
    }

    /// <summary>Version 1: the session's one writer is stuck on the client; version 2 would stop at the client's window instead.</summary>
    [Fact]
    public async Task SmuxSession_ClientSendsButNeverReadsWhileAStreamsBackendFloods_IsCutAfterTheIdleTimeoutOfNoWriteProgress()
    {
        const byte Version = 1;
        await using var network = FaultyNetwork.Start(idleTimeout: IdleTimeout, time: new FakeTimeProvider());
        await network.StartBystandersAsync();
        var (client, backend) = await OpenRawSmuxStreamAsync(network, Version);

        var data = new byte[SmuxTestClient.HeaderSize + 1024];
        SmuxTestClient.WriteHeader(data, Version, SmuxTestClient.Psh, 1024, 3);
        var flood = FloodAsync(backend);
        var backendEnded = BackendEndedAsync(backend);
        using var sent = new SemaphoreSlim(0);
        var sending = KeepSendingAsync(client, data, sent);
        await AssertReclaimedWithinAsync(network, backendEnded, IdleTimeout, IdleTimeout + FillSlack, OneMoreSend(sent, sending));
        await flood.WaitAsync(Bound);
        await sending.WaitAsync(Bound);
        await network.BystandersAdvancedAsync();

        Assert.True(await client.IsClosedByServerAsync().WaitAsync(Bound));
        await network.StopBystandersAndWaitForNoConnectionsAsync();
    }

    [Fact]
    public async Task PlainTunnel_ClientStopsReadingWhileTheBackendFloods_IsReclaimedWithinTheIdleTimeoutAndTheWriteGrace()
    {
        await using var network = FaultyNetwork.Start(idleTimeout: IdleTimeout, time: new FakeTimeProvider());
        await network.StartBystandersAsync();
        var client = await network.PlainAsync(FaultyNetwork.BystanderPath);
        await client.SendBinaryAsync(new[] { EchoBackend.HandOver });
        var backend = await network.Backend.NextHandedOverAsync().AsTask().WaitAsync(Bound);

        // The client reads nothing: the server's write to it blocks once the kernel buffers are full.
        var flood = FloodAsync(backend);
        var backendEnded = BackendEndedAsync(backend);
        await AssertReclaimedWithinAsync(network, backendEnded, IdleTimeout, IdleTimeout + CloseGrace + FillSlack);
        await flood.WaitAsync(Bound);
        await network.BystandersAdvancedAsync();

        // The write was cut mid-frame: no close frame can follow; the connection is simply gone.
        Assert.True(await client.IsClosedByServerAsync().WaitAsync(Bound));
        await network.StopBystandersAndWaitForNoConnectionsAsync();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task SmuxSession_ClientStopsReadingWhileAStreamsBackendFloods_IsReclaimedWithinTheKeepAliveTimeoutAndTheWriteGrace(byte version)
    {
        var keepAliveTimeout = TimeSpan.FromSeconds(3);
        var keepAliveInterval = TimeSpan.FromMilliseconds(500);
        await using var network = FaultyNetwork.Start(keepAliveInterval: keepAliveInterval, keepAliveTimeout: keepAliveTimeout, time: new FakeTimeProvider());
        await network.StartBystandersAsync();
        // A raw client: SYN and one PSH by hand, and then it neither reads nor writes.
        var (client, backend) = await OpenRawSmuxStreamAsync(network, version);

        // Version 2: the server stops at the client's window, 256 KiB, and its write need not block; either way the silent client is given up.
        var flood = FloodAsync(backend);
        var backendEnded = BackendEndedAsync(backend);
        await AssertReclaimedWithinAsync(network, backendEnded, keepAliveTimeout, keepAliveTimeout + CloseGrace + FaultyNetwork.Step);
        await flood.WaitAsync(Bound);
        await network.BystandersAdvancedAsync();
        // Where our close frame got out (version 2), the server waits the close grace for the silent client's answer.
        await network.AdvanceAsync(CloseGrace);

        Assert.True(await client.IsClosedByServerAsync().WaitAsync(Bound));
        await network.StopBystandersAndWaitForNoConnectionsAsync();
    }
}
