using System.Buffers;
using System.Buffers.Binary;
using System.Security.Authentication;
using Mtt.Core.Transport.OpenSsl;
using Mtt.Core.WebSockets;
using Mtt.Tests.Support;

namespace Mtt.Tests.Transport;

/// <summary>
/// The TLS 1.3 record layer's gathering write: WebSocket frame headers and data sealed from where they lie, frames
/// and records cut where they fall. What a client reads must be the frames a copy into one buffer would have made.
/// </summary>
public sealed class FramedWriteTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    // Data lengths around a record (16 KiB of plaintext), a whole send (64 KiB) and a frame (MaxOutgoingFramePayload).
    public static TheoryData<int> Sizes => new(1, 16383, 16384, 16385, 65536, 65537, 200000);

    /// <summary>A prefix a test can recognise: the frame's data length, big-endian, then a marker; as a multiplexer's header would be.</summary>
    private readonly struct LengthPrefix : IMessagePrefix
    {
        public int Length => 6;

        public void Write(Span<byte> destination, int dataLength)
        {
            BinaryPrimitives.WriteInt32BigEndian(destination, dataLength);
            destination[4] = 0xAB;
            destination[5] = 0xCD;
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task BinaryMessages_ArriveWhole_AndByteExact(int size)
    {
        await using var pair = await RecordLayerPair.OpenAsync(SslProtocols.Tls13);
        var records = Assert.IsType<Tls13RecordStream>(pair.Server);
        byte[] data = Pattern(size);
        // Segments of odd lengths, with an empty one, so pieces end inside frames, headers and records alike.
        var sequence = SegmentedSequence.SplitAt(data, Cuts(size));
        int maxData = WebSocketConnection.MaxOutgoingFramePayload;

        var write = records.WriteFramedAsync(sequence, new BinaryMessageHeaders<NoPrefix>(default, maxData), CancellationToken.None).AsTask();
        var received = await ReadFramesAsync(pair, data.Length, prefixLength: 0).WaitAsync(Bound);
        await write.WaitAsync(Bound);

        Assert.Equal(ExpectedLengths(size, maxData), received.Lengths);
        Assert.True(data.AsSpan().SequenceEqual(received.Data), "the data differs from what was written");
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task PrefixedMessages_OfAnSmuxFramesSize_CarryTheirPrefixAndData(int size)
    {
        // Under a KeyUpdate every 3 records too: the owed update goes between two records of one gathered write.
        await using var pair = await RecordLayerPair.OpenAsync(SslProtocols.Tls13, recordsPerKey: 3);
        var records = Assert.IsType<Tls13RecordStream>(pair.Server);
        byte[] data = Pattern(size);
        const int MaxData = 16 * 1024;

        var write = records.WriteFramedAsync(SegmentedSequence.Chunked(data, 7919), new BinaryMessageHeaders<LengthPrefix>(default, MaxData), CancellationToken.None).AsTask();
        var received = await ReadFramesAsync(pair, data.Length, prefixLength: 6).WaitAsync(Bound);
        await write.WaitAsync(Bound);

        Assert.Equal(ExpectedLengths(size, MaxData), received.Lengths);
        Assert.True(data.AsSpan().SequenceEqual(received.Data), "the data differs from what was written");
        if (size > 3 * 16 * 1024) Assert.True(records.KeyUpdatesSent > 0, "no KeyUpdate went out between the records");
    }

    [Fact]
    public async Task WritesInARow_KeepTheirOrder_WithPlainWritesBetweenThem()
    {
        await using var pair = await RecordLayerPair.OpenAsync(SslProtocols.Tls13);
        var records = Assert.IsType<Tls13RecordStream>(pair.Server);
        byte[] first = Pattern(70000), second = Pattern(300);
        // A pong as the connection's pipe writer would hand it over, between two gathered writes.
        byte[] pong = [0x8A, 2, 0x55, 0x66];

        var writes = Task.Run(async () =>
        {
            await records.WriteFramedAsync(new ReadOnlySequence<byte>(first), new BinaryMessageHeaders<NoPrefix>(default, 65522), CancellationToken.None);
            await records.WriteAsync(pong);
            await records.WriteFramedAsync(new ReadOnlySequence<byte>(second), new BinaryMessageHeaders<NoPrefix>(default, 65522), CancellationToken.None);
        });
        byte[] expected = [.. Frame(first.AsSpan(0, 65522)), .. Frame(first.AsSpan(65522)), .. pong, .. Frame(second)];
        byte[] wire = new byte[expected.Length];
        await pair.Client.ReadExactlyAsync(wire).AsTask().WaitAsync(Bound);
        await writes.WaitAsync(Bound);

        Assert.Equal(expected, wire);
    }

    private static byte[] Frame(ReadOnlySpan<byte> payload)
    {
        var header = new byte[FrameWriter.MaxHeaderLength];
        int length = FrameWriter.WriteHeader(header, WebSocketOpcode.Binary, fin: true, payload.Length);
        return [.. header.AsSpan(0, length), .. payload];
    }

    private static byte[] Pattern(int size)
    {
        var data = new byte[size];
        for (int i = 0; i < size; i++) data[i] = (byte)(i * 7 + (i >> 8));
        return data;
    }

    private static int[] Cuts(int size) =>
        [.. new[] { 3, 3, 5000, 16390, 40000, 65530, 131072 }.Where(cut => cut <= size)];

    private static List<int> ExpectedLengths(int size, int maxData)
    {
        var lengths = new List<int>();
        for (int left = size; left > 0; left -= maxData) lengths.Add(Math.Min(left, maxData));
        return lengths;
    }

    // Reads final binary frames until dataLength bytes of data arrived; each frame's prefix must be LengthPrefix's.
    private static async Task<(List<int> Lengths, byte[] Data)> ReadFramesAsync(RecordLayerPair pair, int dataLength, int prefixLength)
    {
        var lengths = new List<int>();
        var data = new byte[dataLength];
        int filled = 0;
        var header = new byte[10];
        while (filled < dataLength)
        {
            await pair.Client.ReadExactlyAsync(header.AsMemory(0, 2));
            Assert.Equal(0x82, header[0]);
            long payload = header[1] & 0x7F;
            if (payload == 126)
            {
                await pair.Client.ReadExactlyAsync(header.AsMemory(2, 2));
                payload = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2));
            }
            else if (payload == 127)
            {
                await pair.Client.ReadExactlyAsync(header.AsMemory(2, 8));
                payload = BinaryPrimitives.ReadInt64BigEndian(header.AsSpan(2));
            }
            int frameData = checked((int)payload) - prefixLength;
            if (prefixLength > 0)
            {
                var prefix = new byte[prefixLength];
                await pair.Client.ReadExactlyAsync(prefix);
                Assert.Equal(frameData, BinaryPrimitives.ReadInt32BigEndian(prefix));
                Assert.Equal([0xAB, 0xCD], prefix[4..]);
            }
            Assert.InRange(frameData, 1, dataLength - filled);
            await pair.Client.ReadExactlyAsync(data.AsMemory(filled, frameData));
            filled += frameData;
            lengths.Add(frameData);
        }
        return (lengths, data);
    }
}
