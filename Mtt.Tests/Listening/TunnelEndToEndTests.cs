using System.Net.WebSockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using Mtt.Core.Diagnostics;
using Mtt.Core.Transport;
using Mtt.Tests.Support;

namespace Mtt.Tests.Listening;

/// <summary>Whole tunnels over loopback: a real WebSocket client, the real listener, a real backend.</summary>
public sealed class TunnelEndToEndTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static async Task<ClientWebSocket> ConnectAsync(TestServer server, string path, string? subprotocol = "smux_off")
    {
        var client = new ClientWebSocket();
        if (subprotocol is not null) client.Options.AddSubProtocol(subprotocol);
        if (server.Certificate is { } pinned)
        {
            client.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(pinned.RawData);
        }
        await client.ConnectAsync(server.UriFor(path), CancellationToken.None).WaitAsync(Bound);
        return client;
    }

    /// <summary>Sends <paramref name="total"/> seeded random bytes while reading the echo, both at once; returns the echo's hash and the sent data's hash.</summary>
    private static async Task<(byte[] Sent, byte[] Received)> EchoAsync(ClientWebSocket client, long total, int chunk)
    {
        using var sentHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var receivedHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var send = Task.Run(async () =>
        {
            var random = new Random(42);
            var buffer = new byte[chunk];
            for (long sent = 0; sent < total; sent += chunk)
            {
                int n = (int)Math.Min(chunk, total - sent);
                random.NextBytes(buffer.AsSpan(0, n));
                sentHash.AppendData(buffer, 0, n);
                await client.SendAsync(buffer.AsMemory(0, n), WebSocketMessageType.Binary, true, CancellationToken.None);
            }
        });
        var receive = Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            long received = 0;
            while (received < total)
            {
                var result = await client.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                Assert.Equal(WebSocketMessageType.Binary, result.MessageType);
                receivedHash.AppendData(buffer, 0, result.Count);
                received += result.Count;
            }
            Assert.Equal(total, received);
        });
        await Task.WhenAll(send, receive).WaitAsync(TimeSpan.FromMinutes(3));
        return (sentHash.GetHashAndReset(), receivedHash.GetHashAndReset());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SmuxOffTunnel_EchoesBytesExactly_PlainAndTls(bool tls)
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.Start(tls: tls);
        server.AddUser("/u1", backend.Address);

        using var client = await ConnectAsync(server, "/u1");
        Assert.Equal("smux_off", client.SubProtocol);
        var (sent, received) = await EchoAsync(client, 1024 * 1024, 16 * 1024);
        Assert.Equal(sent, received);
    }

    [Theory]
    [MemberData(nameof(TlsEngines.Both), MemberType = typeof(TlsEngines))]
    public async Task FiftyMegabytes_BothDirectionsAtOnce_OverTls_ArriveByteExact(TlsEngine engine)
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.Start(tls: true, engine: engine);
        server.AddUser("/bulk", backend.Address);

        using var client = await ConnectAsync(server, "/bulk");
        var (sent, received) = await EchoAsync(client, 50L * 1024 * 1024, 32 * 1024);
        Assert.Equal(sent, received);
    }

    [Fact]
    public async Task NoSubprotocol_WithoutMux_IsAPlainTunnel()
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.Start();
        server.AddUser("/plain", backend.Address);

        using var client = await ConnectAsync(server, "/plain", subprotocol: null);
        Assert.Null(client.SubProtocol);
        var (sent, received) = await EchoAsync(client, 100_000, 1000);
        Assert.Equal(sent, received);
    }

    [Fact]
    public async Task UnknownPath_Gets404AndIsClosed_AndNoBackendIsDialled()
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.Start();
        server.AddUser("/known", backend.Address);

        await using var client = await RawWebSocketClient.ConnectAsync(server.Port);
        var (status, _) = await client.UpgradeAsync("/Known");
        Assert.Equal(404, status);
        Assert.True(await client.IsClosedByServerAsync().WaitAsync(Bound));
        Assert.Equal(0, backend.Accepted);
    }

    [Theory]
    [MemberData(nameof(TlsEngines.Both), MemberType = typeof(TlsEngines))]
    public async Task GoClientHead_Gets101_WithAcceptKeyAndEchoedSubprotocol(TlsEngine engine)
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.Start(tls: true, engine: engine);
        server.AddUser("/9f3c1e", backend.Address);

        await using var client = await RawWebSocketClient.ConnectAsync(server.Port, server.Certificate);
        var (status, head) = await client.UpgradeAsync("/9f3c1e?ed=2048");
        Assert.Equal(101, status);
        Assert.Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", head);
        Assert.Contains("Sec-WebSocket-Protocol: smux_off\r\n", head);

        await client.SendBinaryAsync("hello"u8.ToArray());
        var frame = await client.ReadFrameAsync().WaitAsync(Bound);
        Assert.NotNull(frame);
        Assert.Equal(0x2, frame.Value.Opcode);
        Assert.Equal("hello"u8.ToArray(), frame.Value.Payload);
    }

    [Fact]
    public async Task FragmentedMessagesAndInterleavedPing_AreOneByteStream_AndPingGetsPong()
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.Start();
        server.AddUser("/frag", backend.Address);

        await using var client = await RawWebSocketClient.ConnectAsync(server.Port);
        Assert.Equal(101, (await client.UpgradeAsync("/frag")).Status);
        await client.SendFrameAsync(0x2, "ab"u8.ToArray(), fin: false);
        await client.SendFrameAsync(0x9, "ping!"u8.ToArray());
        await client.SendFrameAsync(0x0, "cd"u8.ToArray(), fin: false);
        await client.SendFrameAsync(0x0, "ef"u8.ToArray(), fin: true);

        var echoed = new MemoryStream();
        bool sawPong = false;
        while (echoed.Length < 6 || !sawPong)
        {
            var frame = await client.ReadFrameAsync().WaitAsync(Bound);
            Assert.NotNull(frame);
            if (frame.Value.Opcode == 0xA)
            {
                Assert.Equal("ping!"u8.ToArray(), frame.Value.Payload);
                sawPong = true;
            }
            else
            {
                Assert.Equal(0x2, frame.Value.Opcode);
                echoed.Write(frame.Value.Payload);
            }
        }
        Assert.Equal("abcdef"u8.ToArray(), echoed.ToArray());
    }

    [Fact]
    public async Task BackendRefusing_ClosesClientWith1011()
    {
        int closedPort;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            closedPort = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        await using var server = TestServer.Start();
        server.AddUser("/nobackend", $"127.0.0.1:{closedPort}");

        await using var client = await RawWebSocketClient.ConnectAsync(server.Port);
        Assert.Equal(101, (await client.UpgradeAsync("/nobackend")).Status);
        Assert.Equal((ushort)1011, await client.ReadUntilCloseAsync().WaitAsync(Bound));
    }

    [Fact]
    public async Task BackendEnding_ClosesClientWith1000_AfterItsLastBytes()
    {
        await using var backend = new EchoBackend(echo: false);
        await using var server = TestServer.Start();
        server.AddUser("/ends", backend.Address);

        await using var client = await RawWebSocketClient.ConnectAsync(server.Port);
        Assert.Equal(101, (await client.UpgradeAsync("/ends")).Status);
        var socket = await backend.FirstConnection.WaitAsync(Bound);
        await socket.SendAsync("last words"u8.ToArray());
        socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);

        var data = new MemoryStream();
        Assert.Equal((ushort)1000, await client.ReadUntilCloseAsync(data).WaitAsync(Bound));
        Assert.Equal("last words"u8.ToArray(), data.ToArray());
        await client.SendCloseAsync(1000);
        Assert.True(await client.IsClosedByServerAsync().WaitAsync(Bound));
    }

    [Fact]
    public async Task ClientClose_IsAnswered_AndTheBackendSeesEndOfInput_AfterEveryByte()
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.Start();
        server.AddUser("/bye", backend.Address);

        await using var client = await RawWebSocketClient.ConnectAsync(server.Port);
        Assert.Equal(101, (await client.UpgradeAsync("/bye")).Status);
        await client.SendBinaryAsync("x"u8.ToArray());
        await client.SendCloseAsync(1000);
        Assert.Equal((ushort)1000, await client.ReadUntilCloseAsync().WaitAsync(Bound));
        await backend.FirstEndOfInput.WaitAsync(Bound);
        Assert.True(await client.IsClosedByServerAsync().WaitAsync(Bound));
    }

    [Fact]
    public async Task UnmaskedFrame_IsClosedWith1002_AndTheServerServesOthers()
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.Start();
        server.AddUser("/p", backend.Address);

        await using (var rude = await RawWebSocketClient.ConnectAsync(server.Port))
        {
            Assert.Equal(101, (await rude.UpgradeAsync("/p")).Status);
            await rude.SendFrameAsync(0x2, "naked"u8.ToArray(), mask: false);
            Assert.Equal((ushort)1002, await rude.ReadUntilCloseAsync().WaitAsync(Bound));
            Assert.True(await rude.IsClosedByServerAsync().WaitAsync(Bound));
        }

        using var polite = await ConnectAsync(server, "/p");
        var (sent, received) = await EchoAsync(polite, 10_000, 1000);
        Assert.Equal(sent, received);
    }

    [Fact]
    public async Task TextFrame_IsClosedWith1003()
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.Start();
        server.AddUser("/t", backend.Address);

        await using var client = await RawWebSocketClient.ConnectAsync(server.Port);
        Assert.Equal(101, (await client.UpgradeAsync("/t")).Status);
        await client.SendFrameAsync(0x1, "text"u8.ToArray());
        Assert.Equal((ushort)1003, await client.ReadUntilCloseAsync().WaitAsync(Bound));
    }

    [Fact]
    public async Task IdleTunnel_IsClosedAfterTheTimeout_WhileABusyOneIsNot()
    {
        var idleTimeout = TimeSpan.FromMilliseconds(1500);
        var step = TimeSpan.FromMilliseconds(250);
        var time = new FakeTimeProvider();
        // Verbose, so that a failure says how the server ended each tunnel.
        var log = new StringWriter();
        await using var backend = new EchoBackend();
        // The quiet tunnel's backend is the test's own socket: it is never written to, so nothing is ever
        // written to the quiet client (a write's bookkeeping is watched on the same jumping clock).
        await using var quietBackend = new EchoBackend(echo: false);
        await using var server = TestServer.Start(idleTimeout: idleTimeout, time: time, log: new ServerLog(TextWriter.Synchronized(log), verbose: true));
        server.AddUser("/idle", backend.Address);
        server.AddUser("/quiet", quietBackend.Address);

        await using var idle = await RawWebSocketClient.ConnectAsync(server.Port);
        Assert.Equal(101, (await idle.UpgradeAsync("/quiet")).Status);
        // Its last words reach its backend before the clock moves: its relay (and idle clock) runs, its last
        // activity at the clock's start. A 101 alone comes before the backend is dialled and the relay starts.
        await idle.SendBinaryAsync("last words"u8.ToArray());
        var quietEnd = await quietBackend.FirstConnection.WaitAsync(Bound);
        var lastWords = new byte[10];
        for (int got = 0; got < lastWords.Length;)
        {
            int n = await quietEnd.ReceiveAsync(lastWords.AsMemory(got)).AsTask().WaitAsync(Bound);
            Assert.True(n > 0, "the quiet tunnel's backend connection ended early");
            got += n;
        }
        Assert.Equal("last words"u8.ToArray(), lastWords);

        await using var busy = await RawWebSocketClient.ConnectAsync(server.Port);
        Assert.Equal(101, (await busy.UpgradeAsync("/idle")).Status);
        var idleClosed = idle.ReadUntilCloseAsync();
        // The tunnels' clock moves a step after each round trip of the busy tunnel, which is activity in
        // every step; the quiet one has none. The clock runs the server's timers as it moves, so the quiet
        // tunnel's end is decided by the step that reaches the timeout; the clock then stands still while
        // its close frame arrives: the busy tunnel cannot outpace it however slow the machine.
        var moved = TimeSpan.Zero;
        while (moved < idleTimeout)
        {
            await busy.SendBinaryAsync("tick"u8.ToArray());
            Assert.NotNull(await busy.ReadFrameAsync().WaitAsync(Bound));
            Assert.False(idleClosed.IsCompleted, $"the quiet tunnel was closed before its timeout, at {moved}");
            // Off the test's synchronisation context: the clock runs the server's timer callbacks on this thread.
            await Task.Run(() => time.Advance(step));
            moved += step;
        }
        var code = await idleClosed.WaitAsync(Bound);
        Assert.True(code == 1000, $"the quiet tunnel ended with {code?.ToString() ?? "no close frame"}; the server's log:\n{log}");

        await busy.SendBinaryAsync("still here"u8.ToArray());
        var frame = await busy.ReadFrameAsync().WaitAsync(Bound);
        Assert.Equal("still here"u8.ToArray(), frame!.Value.Payload);
    }

    [Fact]
    public async Task StalledHandshake_IsDroppedAfterTheTimeout_WithoutDelayingOthers()
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.Start(handshakeTimeout: TimeSpan.FromMilliseconds(800));
        server.AddUser("/s", backend.Address);

        await using var dripper = await RawWebSocketClient.ConnectAsync(server.Port);
        await dripper.SendRawAsync("GET /s HTTP/1.1\r\nHo");
        var dropped = dripper.IsClosedByServerAsync();

        // Another client handshakes and tunnels while the first one hangs.
        using var other = await ConnectAsync(server, "/s");
        Assert.False(dropped.IsCompleted);
        var (sent, received) = await EchoAsync(other, 1000, 100);
        Assert.Equal(sent, received);

        // Dripping a byte now and then does not extend the deadline.
        var drip = Task.Run(async () =>
        {
            foreach (byte b in "st: localhost\r\n"u8.ToArray())
            {
                if (dropped.IsCompleted) return;
                try { await dripper.SendRawAsync([b]); } catch (IOException) { return; }
                await Task.WhenAny(dropped, Task.Delay(100));
            }
        });
        Assert.True(await dropped.WaitAsync(Bound));
        await drip.WaitAsync(Bound);
    }

    [Fact]
    public async Task BackendThatStopsReading_StopsTheClient_InsteadOfGrowingMemory()
    {
        await using var backend = new EchoBackend(echo: false);
        await using var server = TestServer.Start();
        server.AddUser("/slow", backend.Address);

        await using var client = await RawWebSocketClient.ConnectAsync(server.Port);
        Assert.Equal(101, (await client.UpgradeAsync("/slow")).Status);
        await backend.FirstConnection.WaitAsync(Bound);

        var frame = RawWebSocketClient.BuildFrame(0x2, new byte[64 * 1024]);
        long sent = 0;
        // Writes stall once the kernel buffers on both hops and the server's bounded pipes are full;
        // a server that buffered without bound would take all 512 MiB.
        const long Limit = 512L * 1024 * 1024;
        while (sent < Limit)
        {
            var write = client.Stream.WriteAsync(frame).AsTask();
            if (await Task.WhenAny(write, Task.Delay(TimeSpan.FromSeconds(2))) != write) break;
            sent += frame.Length;
        }
        Assert.True(sent < 64L * 1024 * 1024, $"the server accepted {sent} bytes for a backend that reads nothing");
    }
}
