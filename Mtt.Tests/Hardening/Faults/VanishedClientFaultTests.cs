using System.Diagnostics;
using System.Net.Sockets;
using Mtt.Tests.Support;

namespace Mtt.Tests.Hardening.Faults;

/// <summary>
/// Fault: the client vanishes without FIN or RST (a NAT forgot it, a laptop lid closed). On loopback a
/// socket cannot go silent by closing, so the client keeps it open and sends nothing, or stops reading.
/// </summary>
public sealed class VanishedClientFaultTests
{
    private static readonly TimeSpan Bound = FaultyNetwork.Bound;

    // Long enough that the bystanders' rounds on a loaded machine never leave them idle that long.
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(3);

    // TunnelServerOptions.CloseHandshakeTimeout's default: how long a write to the client may go on once the tunnel stops.
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(2);

    // Timers and the tick count are coarse by some milliseconds.
    private static readonly TimeSpan Coarseness = TimeSpan.FromMilliseconds(200);

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

    /// <summary>The server ended this connection's tunnel: its backend saw the end within the bound, not before <paramref name="earliest"/>.</summary>
    private static async Task AssertReclaimedAsync(Task backendEnded, Stopwatch clock, TimeSpan earliest, TimeSpan latest)
    {
        await backendEnded.WaitAsync(Bound);
        Assert.True(clock.Elapsed >= earliest - Coarseness, $"reclaimed after {clock.Elapsed}, before {earliest}");
        Assert.True(clock.Elapsed < latest, $"reclaimed after {clock.Elapsed}, expected within {latest}");
    }

    [Fact]
    public async Task PlainTunnel_SilentClient_IsClosedAfterTheIdleTimeout_WithItsBackend_OthersLoseNothing()
    {
        await using var network = FaultyNetwork.Start(idleTimeout: IdleTimeout);
        await network.StartBystandersAsync();
        var client = await network.PlainAsync(FaultyNetwork.BystanderPath);
        await client.SendBinaryAsync(new[] { EchoBackend.HandOver });
        var backend = await network.Backend.NextHandedOverAsync().AsTask().WaitAsync(Bound);
        await backend.SendAsync("hello"u8.ToArray());
        Assert.Equal("hello"u8.ToArray(), (await client.ReadFrameAsync().WaitAsync(Bound))!.Value.Payload);
        var clock = Stopwatch.StartNew();

        // The client neither sends nor answers from here on.
        var backendEnded = BackendEndedAsync(backend);
        await AssertReclaimedAsync(backendEnded, clock, IdleTimeout, IdleTimeout + CloseGrace + TimeSpan.FromSeconds(10));
        await network.BystandersAdvancedAsync();

        // What the client finds if it ever looks: close 1000, then the end once the server stopped waiting for its answer.
        Assert.Equal((ushort)1000, await client.ReadUntilCloseAsync().WaitAsync(Bound));
        Assert.True(await client.IsClosedByServerAsync().WaitAsync(Bound));
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
        await using var network = FaultyNetwork.Start(keepAliveInterval: TimeSpan.FromMilliseconds(500), keepAliveTimeout: keepAliveTimeout);
        await network.StartBystandersAsync();
        var session = await network.SmuxAsync(FaultyNetwork.BystanderPath, version);
        var stream = await session.OpenStreamAsync();
        await stream.WriteAsync(new[] { EchoBackend.HandOver });
        var backend = await network.Backend.NextHandedOverAsync().AsTask().WaitAsync(Bound);
        var clock = Stopwatch.StartNew();

        var backendEnded = BackendEndedAsync(backend);
        await AssertReclaimedAsync(backendEnded, clock, keepAliveTimeout, keepAliveTimeout + CloseGrace + TimeSpan.FromSeconds(10));
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, await session.Closed.WaitAsync(Bound));
        await network.BystandersAdvancedAsync();

        await network.StopBystandersAndWaitForNoConnectionsAsync();
    }

    /// <summary>
    /// Sends <paramref name="message"/> as a binary message every few milliseconds until the server drops
    /// the connection: a client that is never idle, so only the stuck write can tell it is not reading.
    /// </summary>
    private static async Task KeepSendingAsync(RawWebSocketClient client, byte[] message)
    {
        try
        {
            while (true)
            {
                await client.SendBinaryAsync(message);
                await Task.Delay(20);
            }
        }
        catch (IOException)
        {
        }
    }

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
        await using var network = FaultyNetwork.Start(idleTimeout: IdleTimeout);
        await network.StartBystandersAsync();
        var client = await network.PlainAsync(FaultyNetwork.BystanderPath);
        await client.SendBinaryAsync(new[] { EchoBackend.HandOver });
        var backend = await network.Backend.NextHandedOverAsync().AsTask().WaitAsync(Bound);
        var clock = Stopwatch.StartNew();

        // The backend takes all the client sends and floods back; the client reads nothing.
        var flood = FloodAsync(backend);
        var backendEnded = BackendEndedAsync(backend);
        var sending = KeepSendingAsync(client, new byte[1024]);
        // Cut without the write grace: the stuck write is aborted at once.
        await AssertReclaimedAsync(backendEnded, clock, IdleTimeout, IdleTimeout + TimeSpan.FromSeconds(10));
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
        await using var network = FaultyNetwork.Start(idleTimeout: IdleTimeout);
        await network.StartBystandersAsync();
        var (client, backend) = await OpenRawSmuxStreamAsync(network, Version);
        var clock = Stopwatch.StartNew();

        var data = new byte[SmuxTestClient.HeaderSize + 1024];
        SmuxTestClient.WriteHeader(data, Version, SmuxTestClient.Psh, 1024, 3);
        var flood = FloodAsync(backend);
        var backendEnded = BackendEndedAsync(backend);
        var sending = KeepSendingAsync(client, data);
        await AssertReclaimedAsync(backendEnded, clock, IdleTimeout, IdleTimeout + TimeSpan.FromSeconds(10));
        await flood.WaitAsync(Bound);
        await sending.WaitAsync(Bound);
        await network.BystandersAdvancedAsync();

        Assert.True(await client.IsClosedByServerAsync().WaitAsync(Bound));
        await network.StopBystandersAndWaitForNoConnectionsAsync();
    }

    [Fact]
    public async Task PlainTunnel_ClientStopsReadingWhileTheBackendFloods_IsReclaimedWithinTheIdleTimeoutAndTheWriteGrace()
    {
        await using var network = FaultyNetwork.Start(idleTimeout: IdleTimeout);
        await network.StartBystandersAsync();
        var client = await network.PlainAsync(FaultyNetwork.BystanderPath);
        await client.SendBinaryAsync(new[] { EchoBackend.HandOver });
        var backend = await network.Backend.NextHandedOverAsync().AsTask().WaitAsync(Bound);
        var clock = Stopwatch.StartNew();

        // The client reads nothing: the server's write to it blocks once the kernel buffers are full.
        var flood = FloodAsync(backend);
        var backendEnded = BackendEndedAsync(backend);
        await AssertReclaimedAsync(backendEnded, clock, IdleTimeout, IdleTimeout + CloseGrace + TimeSpan.FromSeconds(10));
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
        await using var network = FaultyNetwork.Start(keepAliveInterval: TimeSpan.FromMilliseconds(500), keepAliveTimeout: keepAliveTimeout);
        await network.StartBystandersAsync();
        // A raw client: SYN and one PSH by hand, and then it neither reads nor writes.
        var (client, backend) = await OpenRawSmuxStreamAsync(network, version);
        var clock = Stopwatch.StartNew();

        // Version 2: the server stops at the client's window, 256 KiB, and its write need not block; either way the silent client is given up.
        var flood = FloodAsync(backend);
        var backendEnded = BackendEndedAsync(backend);
        await AssertReclaimedAsync(backendEnded, clock, keepAliveTimeout, keepAliveTimeout + CloseGrace + TimeSpan.FromSeconds(10));
        await flood.WaitAsync(Bound);
        await network.BystandersAdvancedAsync();

        Assert.True(await client.IsClosedByServerAsync().WaitAsync(Bound));
        await network.StopBystandersAndWaitForNoConnectionsAsync();
    }
}
