using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.Extensions.Time.Testing;
using Mtt.Core.Mux;
using Mtt.Core.Transport;
using Mtt.Tests.Support;

namespace Mtt.Tests.Mux;

/// <summary>Whole smux sessions over loopback: the real listener, the test smux client, real backends.</summary>
public sealed class SmuxSessionTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>
    /// Writes <paramref name="data"/> while reading as much back, then closes as xtaci/smux clients do
    /// (FIN once done both ways) and reads on to the server's FIN; returns all that came back.
    /// </summary>
    private static async Task<byte[]> EchoAsync(SmuxTestStream stream, byte[] data, int expected = -1)
    {
        var read = stream.ReadExactlyAsync(expected < 0 ? data.Length : expected);
        await stream.WriteAsync(data);
        var echoed = await read;
        await stream.CloseWriteAsync();
        return [.. echoed, .. await stream.ReadToEndAsync()];
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    public async Task SixteenParallelStreams_EchoByteExact_BothWays(byte version, bool tls)
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.StartWithUser("/m", backend.Address, tls: tls);
        await using var client = await server.ConnectSmuxAsync("/m", version);

        var streams = new List<SmuxTestStream>();
        for (int i = 0; i < 16; i++) streams.Add(await client.OpenStreamAsync());
        var payloads = streams.Select((s, i) => RandomBytes(512 * 1024 + i * 1000, i)).ToArray();
        var echoes = await Task.WhenAll(streams.Select((s, i) => EchoAsync(s, payloads[i]))).WaitAsync(Bound);

        for (int i = 0; i < 16; i++) Assert.Equal(payloads[i], echoes[i]);
        Assert.All(streams, s => Assert.False(s.WindowViolated));
        Assert.Equal(16, backend.Accepted);
    }

    [Fact]
    public async Task SeventeenthStream_GetsFinStraightBack_WhileTheSixteenGoOn()
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.StartWithUser("/m", backend.Address);
        await using var client = await server.ConnectSmuxAsync("/m");

        var streams = new List<SmuxTestStream>();
        for (int i = 0; i < 16; i++) streams.Add(await client.OpenStreamAsync());
        // Every one of the sixteen is live (its backend answered) before the seventeenth asks.
        foreach (var stream in streams)
        {
            await stream.WriteAsync(new byte[] { 1 });
            Assert.Equal(1, await stream.ReadAsync(new byte[1]).WaitAsync(Bound));
        }

        var refused = await client.OpenStreamAsync();
        await refused.FinReceived.WaitAsync(Bound);

        var payloads = streams.Select((s, i) => RandomBytes(100_000, 100 + i)).ToArray();
        var echoes = await Task.WhenAll(streams.Select((s, i) => EchoAsync(s, payloads[i]))).WaitAsync(Bound);
        for (int i = 0; i < 16; i++) Assert.Equal(payloads[i], echoes[i]);
        Assert.Equal(16, backend.Accepted);

        // Once they have closed, there is room again.
        var later = await client.OpenStreamAsync();
        Assert.Equal(RandomBytes(1000, 9), await EchoAsync(later, RandomBytes(1000, 9)).WaitAsync(Bound));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task StreamEndedBothWays_FreesItsPlaceAtOnce_ForASynRightBehindItsFin(byte version)
    {
        await using var backend = new EchoBackend(scripted: true);
        await using var server = TestServer.StartWithUser("/m", backend.Address);
        await using var client = await server.ConnectSmuxAsync("/m", version);

        // Sixteen streams whose backends the test holds, so it decides when each one ends.
        var streams = new List<SmuxTestStream>();
        var backends = new List<Socket>();
        for (int i = 0; i < 16; i++)
        {
            var stream = await client.OpenStreamAsync();
            await stream.WriteAsync(new[] { EchoBackend.HandOver });
            backends.Add(await backend.NextHandedOverAsync().AsTask().WaitAsync(Bound));
            streams.Add(stream);
        }

        // Each round, one stream ends both ways: its backend ends, the server's FIN arrives, and the
        // client answers with its own FIN and, in the same message, a new stream, as a client does that
        // closes one stream and opens the next. By the client's count the session holds 16 again, and
        // the server reads the SYN right behind the FIN, before the ended stream's backend is even closed.
        for (int i = 0; i < 16; i++)
        {
            backends[i].Shutdown(SocketShutdown.Send);
            await streams[i].FinReceived.WaitAsync(Bound);
            uint id = 1001 + 2 * (uint)i;
            var next = new SmuxTestStreamProbe(client, id).Stream;
            byte[] message = new byte[3 * SmuxTestClient.HeaderSize + 1];
            SmuxTestClient.WriteHeader(message, version, SmuxTestClient.Fin, 0, streams[i].Id);
            SmuxTestClient.WriteHeader(message.AsSpan(SmuxTestClient.HeaderSize), version, SmuxTestClient.Syn, 0, id);
            SmuxTestClient.WriteHeader(message.AsSpan(2 * SmuxTestClient.HeaderSize), version, SmuxTestClient.Psh, 1, id);
            message[^1] = (byte)('a' + i);
            await client.SendMessageAsync(message);

            var echoed = await next.ReadExactlyAsync(1).WaitAsync(Bound);
            Assert.True(echoed.Length == 1, $"round {i}: the new stream was refused (FIN straight back) although the client had 16 open");
            Assert.Equal((byte)('a' + i), echoed[0]);
        }

        // The count is still right: the sixteen new streams are live, so a seventeenth is refused.
        var seventeenth = await client.OpenStreamAsync();
        await seventeenth.FinReceived.WaitAsync(Bound);
        Assert.Empty(await seventeenth.ReadToEndAsync().WaitAsync(Bound));
    }

    [Theory]
    [InlineData("smux_on", false)]
    [InlineData(null, true)]
    public async Task SmuxOnOrNoSubprotocolUnderMux_IsASession(string? subprotocol, bool muxByDefault)
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.StartWithUser("/m", backend.Address, mux: muxByDefault);
        var socket = new ClientWebSocket();
        if (subprotocol is not null) socket.Options.AddSubProtocol(subprotocol);
        await socket.ConnectAsync(server.UriFor("/m"), CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(subprotocol, socket.SubProtocol);
        await using var client = new SmuxTestClient(socket);

        var stream = await client.OpenStreamAsync();
        Assert.Equal(RandomBytes(70_000, 1), await EchoAsync(stream, RandomBytes(70_000, 1)).WaitAsync(Bound));
    }

    [Fact]
    public async Task FramesSplitAcrossMessages_AndSeveralInOneMessage_AreOneByteStream()
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.StartWithUser("/m", backend.Address);
        await using var client = await server.ConnectSmuxAsync("/m");

        // SYN 3, PSH 3 "hello ", SYN 5, PSH 5 "x", PSH 3 "world": joined, then cut at odd places.
        static byte[] F(byte cmd, uint id, string data)
        {
            var bytes = System.Text.Encoding.ASCII.GetBytes(data);
            var frame = new byte[8 + bytes.Length];
            SmuxTestClient.WriteHeader(frame, 1, cmd, (ushort)bytes.Length, id);
            bytes.CopyTo(frame, 8);
            return frame;
        }
        byte[] all = [.. F(0, 3, ""), .. F(2, 3, "hello "), .. F(0, 5, ""), .. F(2, 5, "x"), .. F(2, 3, "world"), .. F(1, 3, ""), .. F(1, 5, "")];
        var s3 = new SmuxTestStreamProbe(client, 3);
        var s5 = new SmuxTestStreamProbe(client, 5);
        foreach (var cut in new[] { (0, 3), (3, 11), (11, 30), (30, all.Length) }) await client.SendMessageAsync(all.AsMemory(cut.Item1, cut.Item2 - cut.Item1));

        Assert.Equal("hello world"u8.ToArray(), await s3.Stream.ReadToEndAsync().WaitAsync(Bound));
        Assert.Equal("x"u8.ToArray(), await s5.Stream.ReadToEndAsync().WaitAsync(Bound));
    }

    [Fact]
    public async Task SilentSession_IsClosedByKeepAlive_AfterTheServerSentNops()
    {
        var interval = TimeSpan.FromMilliseconds(100);
        var keepAliveTimeout = TimeSpan.FromMilliseconds(800);
        var time = new FakeTimeProvider();
        await using var backend = new EchoBackend();
        await using var server = TestServer.StartWithUser("/m", backend.Address, keepAliveInterval: interval, keepAliveTimeout: keepAliveTimeout, time: time);
        await using var client = await server.ConnectSmuxAsync("/m", version: 2);
        var stream = await client.OpenStreamAsync();
        // Its SYN was the last the server heard from the client: the stream's backend has been dialled.
        await backend.FirstConnection.WaitAsync(Bound);

        // The client says nothing more while the session's clock moves on: NOPs come, then the session goes,
        // and the stream's backend with it.
        // Off the test's synchronisation context: the clock runs the server's timer callbacks on the advancing thread.
        await Task.Run(() => time.Advance(interval));
        await client.FirstNop.WaitAsync(Bound);
        await Task.Run(() => time.Advance(keepAliveTimeout - 2 * interval));
        Assert.False(client.Closed.IsCompleted, "closed before the keepalive timeout");
        await Task.Run(() => time.Advance(interval));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, await client.Closed.WaitAsync(Bound));
        await backend.FirstEndOfInput.WaitAsync(Bound);
    }

    [Fact]
    public async Task IdleSessionWithoutStreams_IsClosed_WhileOneWithAnOpenStreamIsNot()
    {
        var idleTimeout = TimeSpan.FromMilliseconds(500);
        var time = new FakeTimeProvider();
        await using var backend = new EchoBackend();
        await using var server = TestServer.StartWithUser("/m", backend.Address, idleTimeout: idleTimeout, time: time);
        await using var busy = await server.ConnectSmuxAsync("/m");
        var stream = await busy.OpenStreamAsync();
        await stream.WriteAsync(new byte[] { 42 });
        Assert.Equal(1, await stream.ReadAsync(new byte[1]).WaitAsync(Bound));

        await using var idle = await server.ConnectSmuxAsync("/m");
        var once = await idle.OpenStreamAsync();
        Assert.Equal([7], await EchoAsync(once, [7]).WaitAsync(Bound));
        // The idle clock starts as the server ends the last stream, a moment after its FIN reached the client:
        // the clock moves a step after each round trip of the busy session's stream.
        var step = TimeSpan.FromMilliseconds(100);
        var moved = TimeSpan.Zero;
        while (!idle.Closed.IsCompleted)
        {
            Assert.True(moved < idleTimeout + 30 * step, "the idle session was not closed after its timeout");
            await stream.WriteAsync(new byte[] { 1 });
            Assert.Equal(1, await stream.ReadAsync(new byte[1]).WaitAsync(Bound));
            await Task.Run(() => time.Advance(step));
            moved += step;
        }
        Assert.Equal(WebSocketCloseStatus.NormalClosure, await idle.Closed.WaitAsync(Bound));
        Assert.True(moved >= idleTimeout, $"closed after {moved}");

        // The busy session outlived the idle one's whole timeout after its last stream closed.
        Assert.False(busy.Closed.IsCompleted);
        Assert.Equal(RandomBytes(5000, 3), await EchoAsync(stream, RandomBytes(5000, 3)).WaitAsync(Bound));
    }

    [Fact]
    public async Task BackendRefusing_FinsThatStream_AndTheSessionGoesOn()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();

        await using var server = TestServer.StartWithUser("/m", $"127.0.0.1:{port}");
        await using var client = await server.ConnectSmuxAsync("/m");
        var refused = await client.OpenStreamAsync();
        await refused.WriteAsync(new byte[100]);
        await refused.FinReceived.WaitAsync(Bound);
        Assert.Empty(await refused.ReadToEndAsync().WaitAsync(Bound));

        // The same port now answers: the next stream of the same session works.
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        try
        {
            var stream = await client.OpenStreamAsync();
            using var accepted = await listener.AcceptSocketAsync().WaitAsync(Bound);
            await accepted.SendAsync("ok"u8.ToArray());
            accepted.Shutdown(SocketShutdown.Send);
            Assert.Equal("ok"u8.ToArray(), await stream.ReadToEndAsync().WaitAsync(Bound));
            Assert.False(client.Closed.IsCompleted);
        }
        finally
        {
            listener.Stop();
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task BackendResettingOneStream_FinsItAlone_WhileOthersFinishByteExact(byte version)
    {
        await using var backend = new EchoBackend(scripted: true);
        await using var server = TestServer.StartWithUser("/m", backend.Address);
        await using var client = await server.ConnectSmuxAsync("/m", version);

        var good = new List<SmuxTestStream>();
        for (int i = 0; i < 4; i++) good.Add(await client.OpenStreamAsync());
        var payloads = good.Select((_, i) => RandomBytes(2 * 1024 * 1024, 50 + i)).ToArray();
        var echoes = Task.WhenAll(good.Select((s, i) => EchoAsync(s, payloads[i])));

        var doomed = await client.OpenStreamAsync();
        await doomed.WriteAsync(new[] { EchoBackend.Reset });
        await doomed.FinReceived.WaitAsync(Bound);

        var results = await echoes.WaitAsync(Bound);
        for (int i = 0; i < 4; i++) Assert.Equal(payloads[i], results[i]);
        Assert.Equal(1, backend.Resets);
        Assert.False(client.Closed.IsCompleted);
    }

    [Fact]
    public async Task StalledBackendOnOneStream_DoesNotHoldUpFiftyMegabytesOnAnother_Version2()
    {
        await using var backend = new EchoBackend(scripted: true);
        await using var server = TestServer.StartWithUser("/m", backend.Address, tls: true);
        await using var client = await server.ConnectSmuxAsync("/m", version: 2);

        var stalled = await client.OpenStreamAsync();
        var stalledPayload = RandomBytes(4 * 1024 * 1024, 11);
        stalledPayload[0] = EchoBackend.Stall;
        var stalledEcho = EchoAsync(stalled, stalledPayload);
        await backend.StalledConnectionSeen.WaitAsync(Bound);

        var bulk = await client.OpenStreamAsync();
        var bulkPayload = RandomBytes(50 * 1024 * 1024, 12);
        Assert.Equal(bulkPayload, await EchoAsync(bulk, bulkPayload).WaitAsync(TimeSpan.FromMinutes(3)));
        Assert.False(stalledEcho.IsCompleted);

        backend.ReleaseStalled();
        Assert.Equal(stalledPayload, await stalledEcho.WaitAsync(Bound));
        Assert.False(stalled.WindowViolated || bulk.WindowViolated);
    }

    [Theory]
    [InlineData(3, SmuxTestClient.Syn)]
    [InlineData(1, 9)]
    [InlineData(1, SmuxTestClient.Upd)]
    public async Task SmuxProtocolError_ClosesWith1002_AndEndsTheStreamsBackends(byte version, byte command)
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.StartWithUser("/m", backend.Address);
        await using var client = await server.ConnectSmuxAsync("/m");
        var stream = await client.OpenStreamAsync();
        await stream.WriteAsync(new byte[] { 1 });
        Assert.Equal(1, await stream.ReadAsync(new byte[1]).WaitAsync(Bound));

        await client.SendFrameAsync(version, command, 3, command == SmuxTestClient.Upd ? new byte[8] : ReadOnlyMemory<byte>.Empty);

        Assert.Equal(WebSocketCloseStatus.ProtocolError, await client.Closed.WaitAsync(Bound));
        await backend.FirstEndOfInput.WaitAsync(Bound);
    }

    [Fact]
    public async Task ClientFin_GivesTheBackendEndOfInput_AndTheServerFinsAfterTheLastByte_Version1()
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.StartWithUser("/m", backend.Address);
        await using var client = await server.ConnectSmuxAsync("/m");
        var stream = await client.OpenStreamAsync();
        var payload = RandomBytes(3 * 1024 * 1024, 8);

        // Half close: all of it and FIN first, then the echo, which the server goes on sending after our FIN.
        await stream.WriteAsync(payload);
        await stream.CloseWriteAsync();
        Assert.Equal(payload, await stream.ReadToEndAsync().WaitAsync(Bound));
        await backend.FirstEndOfInput.WaitAsync(Bound);
    }

    [Fact]
    public async Task UnknownStreamData_AndDuplicateSyn_AreDropped_TheSessionGoesOn()
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.StartWithUser("/m", backend.Address);
        await using var client = await server.ConnectSmuxAsync("/m");

        await client.SendFrameAsync(SmuxTestClient.Psh, 99, new byte[] { 1, 2, 3 });
        await client.SendFrameAsync(SmuxTestClient.Fin, 99, ReadOnlyMemory<byte>.Empty);
        var stream = await client.OpenStreamAsync();
        await client.SendFrameAsync(SmuxTestClient.Syn, stream.Id, ReadOnlyMemory<byte>.Empty);

        Assert.Equal(RandomBytes(40_000, 5), await EchoAsync(stream, RandomBytes(40_000, 5)).WaitAsync(Bound));
        Assert.Equal(1, backend.Accepted);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task StalledBackend_BoundsWhatTheSessionHolds(byte version)
    {
        await using var backend = new EchoBackend(scripted: true);
        var options = new SmuxSessionOptions { ReceiveBudget = 256 * 1024 };
        await using var direct = await DirectSmuxSession.StartAsync(backend.Address, version, options);

        var stream = await direct.Client.OpenStreamAsync();
        var payload = RandomBytes(32 * 1024 * 1024, 21);
        payload[0] = EchoBackend.Stall;
        var echo = EchoAsync(stream, payload);
        await backend.StalledConnectionSeen.WaitAsync(Bound);
        // Version 1 stops reading at its budget. In version 2 the client stops at our window instead, for good
        // once the backend's socket is full: the server then holds more than the half window it announces by.
        await (version == 1 ? direct.Session.FirstReadStall : direct.Session.WhenHeld(SmuxStream.ReceiveWindow / 4)).WaitAsync(Bound);

        int limit = version == 1 ? options.ReceiveBudget : SmuxStream.ReceiveWindow;
        Assert.InRange(direct.Session.PeakQueuedBytes, 1, limit);

        backend.ReleaseStalled();
        Assert.Equal(payload, await echo.WaitAsync(TimeSpan.FromMinutes(2)));
        Assert.InRange(direct.Session.PeakQueuedBytes, 1, limit);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task BytesReadBeforeTheBackendIsDialled_ReachItFirst_AndTheRestInOrder(byte version)
    {
        // The reader writes to a dialled backend itself, but queues while its stream's queue is not empty: the
        // bytes held during the dial go first, and what arrives while they drain waits behind them. A small
        // send buffer toward the backend keeps the queue draining while the reader goes on.
        await using var backend = new EchoBackend();
        var dialGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task<(SocketTransport?, string?)> DialAfterGateAsync(CancellationToken token)
        {
            await dialGate.Task.WaitAsync(token);
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, SendBufferSize = 8 * 1024 };
            await socket.ConnectAsync(IPEndPoint.Parse(backend.Address), token);
            return (SocketTransport.CreatePlain(socket), null);
        }
        // More than the upstream loop writes to the backend at once, so the reader wakes while bytes are still queued.
        var options = new SmuxSessionOptions { ReceiveBudget = 256 * 1024 };
        await using var direct = await DirectSmuxSession.StartAsync(backend.Address, version, options, DialAfterGateAsync);

        var stream = await direct.Client.OpenStreamAsync();
        var payload = RandomBytes(8 * 1024 * 1024, 31);
        var echo = EchoAsync(stream, payload);
        // Version 1 stops reading at its budget; in version 2 the client stops at our window instead.
        await (version == 1 ? direct.Session.FirstReadStall : stream.WindowExhausted).WaitAsync(Bound);
        Assert.Equal(0, backend.Accepted);

        dialGate.SetResult();
        Assert.Equal(payload, await echo.WaitAsync(Bound));
        Assert.InRange(direct.Session.PeakQueuedBytes, 1, version == 1 ? options.ReceiveBudget : SmuxStream.ReceiveWindow);
    }
}
