using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Mtt.Core.Limits;
using Mtt.Core.Routing;
using Mtt.Core.Transport;
using Mtt.Core.WebSockets;
using Mtt.Tests.Support;

namespace Mtt.Tests.Relay;

/// <summary>
/// A backend's bytes to a TLS 1.3 client on the OpenSSL engine, where the record layer seals each frame's header and
/// the backend's data from where they lie: what the client reads is byte-exact in frames it can parse, pongs arrive
/// whole between data frames, and the user's downstream rate still holds.
/// </summary>
public sealed class TlsBackendToClientTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private const string UserPath = "/gathered";

    // Around a record (16 KiB of plaintext), a send (64 KiB) and a WebSocket frame (64 KiB less its header).
    public static TheoryData<int> Sizes => new(1, 16383, 16384, 16385, 65536, 65537, 200000);

    private static (TestServer Server, EchoBackend Backend) Start(TimeProvider? time = null)
    {
        var backend = new EchoBackend();
        var server = TestServer.Start(tls: true, engine: TlsEngine.OpenSsl, time: time);
        server.AddUser(UserPath, backend.Address);
        return (server, backend);
    }

    private static async Task<RawWebSocketClient> OpenAsync(TestServer server)
    {
        var client = await RawWebSocketClient.ConnectAsync(server.Port, server.Certificate).WaitAsync(Bound);
        Assert.Equal(101, (await client.UpgradeAsync(UserPath).WaitAsync(Bound)).Status);
        return client;
    }

    private static byte[] Pattern(int size, int seed = 0)
    {
        var data = new byte[size];
        for (int i = 0; i < size; i++) data[i] = (byte)(i * 13 + (i >> 9) + seed);
        return data;
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task Tunnel_EchoesEachSize_ByteExact(int size)
    {
        var (server, backend) = Start();
        await using var _ = server;
        await using var __ = backend;
        await using var client = await OpenAsync(server);
        byte[] sent = Pattern(size);

        var sending = Task.Run(async () =>
        {
            for (int at = 0; at < size; at += 16 * 1024) await client.SendBinaryAsync(sent.AsMemory(at, Math.Min(16 * 1024, size - at)));
        });
        var echoed = new byte[size];
        using var cancel = new CancellationTokenSource(Bound);
        for (int filled = 0; filled < size;)
        {
            int read = await client.ReceiveAsync(echoed.AsMemory(filled), cancel.Token);
            Assert.True(read > 0, $"the tunnel ended after {filled} of {size} bytes");
            filled += read;
        }
        await sending.WaitAsync(Bound);

        Assert.True(sent.AsSpan().SequenceEqual(echoed), "the echo differs from what was sent");
        Assert.True(await client.CloseAsync(), "no close handshake after the echo");
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task SmuxSession_EchoesEachSizeOnTwoStreams_ByteExact(int size)
    {
        var (server, backend) = Start();
        await using var _ = server;
        await using var __ = backend;
        await using var session = await server.ConnectSmuxAsync(UserPath).WaitAsync(Bound);
        var a = await session.OpenStreamAsync().WaitAsync(Bound);
        var b = await session.OpenStreamAsync().WaitAsync(Bound);
        byte[] sentA = Pattern(size, seed: 1), sentB = Pattern(size, seed: 2);

        var writes = Task.WhenAll(a.WriteAsync(sentA), b.WriteAsync(sentB));
        var echoes = await Task.WhenAll(a.ReadExactlyAsync(size), b.ReadExactlyAsync(size)).WaitAsync(Bound);
        await writes.WaitAsync(Bound);

        Assert.True(sentA.AsSpan().SequenceEqual(echoes[0]), "stream a's echo differs from what was sent");
        Assert.True(sentB.AsSpan().SequenceEqual(echoes[1]), "stream b's echo differs from what was sent");
    }

    [Fact]
    public async Task PingsDuringABulkEcho_AreAnsweredWithWholePongs_InOrder_BetweenByteExactData()
    {
        var (server, backend) = Start();
        await using var _ = server;
        await using var __ = backend;
        await using var client = await OpenAsync(server);
        const int Messages = 64, MessageBytes = 48 * 1024;
        byte[] sent = Pattern(Messages * MessageBytes);

        // A ping after every message: each pong is written by the tunnel's other loop while this one's echo is going out.
        var sending = Task.Run(async () =>
        {
            for (int i = 0; i < Messages; i++)
            {
                await client.SendBinaryAsync(sent.AsMemory(i * MessageBytes, MessageBytes));
                byte[] ping = new byte[4];
                BinaryPrimitives.WriteInt32BigEndian(ping, i);
                await client.SendFrameAsync((byte)WebSocketOpcode.Ping, ping);
            }
        });
        var echoed = new MemoryStream();
        var pongs = new List<int>();
        while (echoed.Length < sent.Length || pongs.Count < Messages)
        {
            var payload = await ReadBinaryCollectingPongAsync(client, pongs);
            if (payload is null) continue;
            echoed.Write(payload);
        }
        await sending.WaitAsync(Bound);

        Assert.Equal(Enumerable.Range(0, Messages), pongs);
        Assert.True(sent.AsSpan().SequenceEqual(echoed.ToArray()), "the echo differs from what was sent");
    }

    [Theory]
    [InlineData("smux_off")]
    [InlineData("smux_on")]
    public async Task PingsDuringADownload_AreAnsweredWithWholePongs_InOrder_BetweenWholeFrames(string subprotocol)
    {
        bool smux = subprotocol == "smux_on";
        const int Pings = 64, ReadBetweenPings = 256 * 1024;
        byte[] download = Pattern(Pings * ReadBetweenPings, seed: 3);
        await using var backend = new DownloadBackend(download);
        await using var server = TestServer.Start(tls: true, engine: TlsEngine.OpenSsl);
        server.AddUser(UserPath, backend.Address);
        var client = await RawWebSocketClient.ConnectAsync(server.Port, server.Certificate).WaitAsync(Bound);
        await using var _ = client;
        Assert.Equal(101, (await client.UpgradeAsync(UserPath, subprotocol).WaitAsync(Bound)).Status);
        if (smux) await client.SendBinaryAsync(SmuxFrame(SmuxTestClient.Syn, []));

        // While this client is not reading, a gathered write of several frames (a tunnel's backlog, an smux turn) waits
        // in the middle: each ping's pong is written then, and must wait for the whole write, or it lands inside a frame.
        var echoed = new MemoryStream();
        var pongs = new List<int>();
        int pingsSent = 0;
        while (echoed.Length < download.Length || pongs.Count < Pings)
        {
            if (pingsSent < Pings && echoed.Length >= (long)pingsSent * ReadBetweenPings)
            {
                byte[] ping = new byte[4];
                BinaryPrimitives.WriteInt32BigEndian(ping, pingsSent++);
                await client.SendFrameAsync((byte)WebSocketOpcode.Ping, ping).WaitAsync(Bound);
            }
            var payload = await ReadBinaryCollectingPongAsync(client, pongs);
            if (payload is null) continue;
            if (!smux)
            {
                echoed.Write(payload);
                continue;
            }
            // Each message holds whole smux frames: PSH on the one stream, or a keepalive.
            for (int at = 0; at < payload.Length;)
            {
                Assert.InRange(payload.Length - at, SmuxTestClient.HeaderSize, int.MaxValue);
                Assert.Equal(1, payload[at]);
                byte command = payload[at + 1];
                int length = BinaryPrimitives.ReadUInt16LittleEndian(payload.AsSpan(at + 2));
                Assert.InRange(length, 0, payload.Length - at - SmuxTestClient.HeaderSize);
                if (command == SmuxTestClient.Psh)
                {
                    Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(payload.AsSpan(at + 4)));
                    echoed.Write(payload, at + SmuxTestClient.HeaderSize, length);
                }
                else
                {
                    Assert.Equal(SmuxTestClient.Nop, command);
                }
                at += SmuxTestClient.HeaderSize + length;
            }
        }

        Assert.Equal(Enumerable.Range(0, Pings), pongs);
        Assert.True(download.AsSpan().SequenceEqual(echoed.ToArray()), "the download differs from what the backend sent");
    }

    // A version 1 smux frame on stream 1.
    private static byte[] SmuxFrame(byte command, ReadOnlySpan<byte> data)
    {
        var frame = new byte[SmuxTestClient.HeaderSize + data.Length];
        SmuxTestClient.WriteHeader(frame, 1, command, checked((ushort)data.Length), 1);
        data.CopyTo(frame.AsSpan(SmuxTestClient.HeaderSize));
        return frame;
    }

    [Fact]
    public async Task DownstreamRate_HoldsOnTheGatheredPath_OneSecondsWorthPerSecond()
    {
        const int Rate = 64_000;
        // Grants are slices of a 32nd of the rate: up to one may be left in the bucket.
        const int Slack = Rate / 32;
        var time = new FakeTimeProvider();
        // A backend that sends a download as soon as it is connected: only the downstream bucket is in play.
        byte[] download = Pattern(4 * Rate);
        await using var backend = new DownloadBackend(download);
        await using var server = TestServer.Start(tls: true, engine: TlsEngine.OpenSsl, time: time);
        Assert.True(BackendAddress.TryParse(backend.Address, out var address, out _));
        // The tunnel's admission puts the route's limits in force on the listener's (fake) clock.
        server.Routes.Update(table => table.WithAdded([new Route(UserPath, address) { Limits = new UserLimits(Rate: Rate) }]));
        await using var client = await OpenAsync(server);

        var received = new byte[download.Length];
        int filled = 0;
        using var cancel = new CancellationTokenSource(Bound);
        // The burst: one second's worth, and nothing more while the clock stands still.
        while (filled < Rate - Slack) filled += await client.ReceiveAsync(received.AsMemory(filled), cancel.Token);
        Assert.InRange(filled, Rate - Slack, Rate);

        time.Advance(TimeSpan.FromSeconds(1));
        while (filled < 2 * Rate - Slack) filled += await client.ReceiveAsync(received.AsMemory(filled), cancel.Token);
        Assert.InRange(filled, 2 * Rate - Slack, 2 * Rate);
        Assert.True(download.AsSpan(0, filled).SequenceEqual(received.AsSpan(0, filled)), "the download differs from what the backend sent");
    }

    /// <summary>The next frame: a binary message's payload, or null for a pong (whole, its number added to <paramref name="pongs"/>).</summary>
    private static async Task<byte[]?> ReadBinaryCollectingPongAsync(RawWebSocketClient client, List<int> pongs)
    {
        var frame = await client.ReadFrameAsync().WaitAsync(Bound);
        Assert.NotNull(frame);
        var (fin, opcode, payload) = frame.Value;
        Assert.True(fin);
        if (opcode == (byte)WebSocketOpcode.Pong)
        {
            Assert.Equal(4, payload.Length);
            pongs.Add(BinaryPrimitives.ReadInt32BigEndian(payload));
            return null;
        }
        Assert.Equal((byte)WebSocketOpcode.Binary, opcode);
        return payload;
    }
}
