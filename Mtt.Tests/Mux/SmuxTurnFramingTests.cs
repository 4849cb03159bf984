using System.Buffers.Binary;
using System.Net.WebSockets;
using Mtt.Core.Mux;
using Mtt.Tests.Support;

namespace Mtt.Tests.Mux;

/// <summary>
/// What the client sees of a stream's turn: a backend's large write goes out as several PSH frames written
/// together from the backend's read buffer, and each is still one WebSocket message holding exactly one frame
/// of at most <see cref="SmuxStream.MaxFrameData"/> bytes (one 16 KiB TLS record with its headers), in order.
/// </summary>
public sealed class SmuxTurnFramingTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(1, true)]
    public async Task BackendWriteOfManyFrames_ReachesTheClientAsOneFramePerMessage_InOrder(byte version, bool tls)
    {
        await using var backend = new EchoBackend(scripted: true);
        await using var server = TestServer.StartWithUser("/m", backend.Address, tls: tls);
        using var client = new ClientWebSocket();
        client.Options.AddSubProtocol("smux_on");
        if (tls) client.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        await client.ConnectAsync(server.UriFor("/m"), CancellationToken.None).WaitAsync(Bound);

        // SYN and the handover byte for stream 1, as one message.
        byte[] open = new byte[2 * SmuxTestClient.HeaderSize + 1];
        SmuxTestClient.WriteHeader(open, version, SmuxTestClient.Syn, 0, 1);
        SmuxTestClient.WriteHeader(open.AsSpan(SmuxTestClient.HeaderSize), version, SmuxTestClient.Psh, 1, 1);
        open[^1] = EchoBackend.HandOver;
        await client.SendAsync(open, WebSocketMessageType.Binary, true, CancellationToken.None);
        using var backendSocket = await backend.NextHandedOverAsync().AsTask().WaitAsync(Bound);

        // More than a turn's worth, in one write, so the server reads several frames' worth at once.
        var data = new byte[3 * SmuxStream.MaxDataPerTurn + 5000];
        new Random(14).NextBytes(data);
        var write = backendSocket.SendAsync(data);

        var received = new MemoryStream();
        var message = new byte[64 * 1024];
        int frames = 0;
        while (received.Length < data.Length)
        {
            int length = 0;
            WebSocketReceiveResult result;
            do
            {
                result = await client.ReceiveAsync(new ArraySegment<byte>(message, length, message.Length - length), CancellationToken.None).WaitAsync(Bound);
                length += result.Count;
            }
            while (!result.EndOfMessage);
            Assert.Equal(WebSocketMessageType.Binary, result.MessageType);

            // Version 2 sends UPDs as well; only data frames matter here.
            var frame = message.AsSpan(0, length);
            Assert.True(length >= SmuxTestClient.HeaderSize, $"a message of {length} bytes holds no frame header");
            Assert.Equal(version, frame[0]);
            if (frame[1] == SmuxTestClient.Upd) continue;
            Assert.Equal(SmuxTestClient.Psh, frame[1]);
            Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(frame[4..]));
            int dataLength = BinaryPrimitives.ReadUInt16LittleEndian(frame[2..]);
            Assert.Equal(length - SmuxTestClient.HeaderSize, dataLength);
            Assert.InRange(dataLength, 1, SmuxStream.MaxFrameData);
            received.Write(frame[SmuxTestClient.HeaderSize..]);
            frames++;
        }
        await write.WaitAsync(Bound);

        Assert.Equal(data, received.ToArray());
        Assert.True(frames >= (data.Length + SmuxStream.MaxFrameData - 1) / SmuxStream.MaxFrameData);
        client.Abort();
    }
}
