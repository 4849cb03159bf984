using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Mtt.Core.WebSockets;

namespace Mtt.Tests.WebSockets;

/// <summary><see cref="WebSocketConnection.SendAsync{TPrefix}"/>: data cut into messages, each its prefix then its share of the data.</summary>
public sealed class PrefixedSendTests
{
    // Four bytes: the message's data length, big-endian, so the test can see the prefix matches its message.
    private readonly struct LengthPrefix : IMessagePrefix
    {
        public int Length => 4;

        public void Write(Span<byte> destination, int dataLength) => BinaryPrimitives.WriteInt32BigEndian(destination, dataLength);
    }

    [Theory]
    [InlineData(40_000, 16_372)]
    [InlineData(16_372, 16_372)]
    [InlineData(1, 16_372)]
    [InlineData(200_000, 70_000)]
    public async Task Data_IsCutIntoMessagesOfTheMaximum_EachPrefixedAndWhole(int dataLength, int maxPerMessage)
    {
        // Nothing reads until the send is done: the pipe must not push back.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0));
        var connection = new WebSocketConnection(new Pipe().Reader, pipe.Writer);
        var data = new byte[dataLength];
        new Random(dataLength).NextBytes(data);

        Assert.True(await connection.SendAsync(new ReadOnlySequence<byte>(data), maxPerMessage, new LengthPrefix(), CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        pipe.Writer.Complete();
        var wire = (await pipe.Reader.ReadAtLeastAsync(int.MaxValue)).Buffer.ToArray();

        // The most a message may carry: the maximum asked for, within one 64 KiB write with its headers.
        int cap = Math.Min(maxPerMessage, WebSocketConnection.MaxOutgoingFramePayload - 4);
        var received = new List<byte>();
        int offset = 0;
        while (offset < wire.Length)
        {
            Assert.Equal(0x82, wire[offset]);
            int length = wire[offset + 1] == 126 ? BinaryPrimitives.ReadUInt16BigEndian(wire.AsSpan(offset + 2)) : wire[offset + 1];
            int header = wire[offset + 1] == 126 ? 4 : 2;
            var payload = wire.AsSpan(offset + header, length);
            int carried = BinaryPrimitives.ReadInt32BigEndian(payload);
            Assert.Equal(length - 4, carried);
            // Every message but the last is full.
            int remaining = dataLength - received.Count;
            Assert.Equal(Math.Min(remaining, cap), carried);
            received.AddRange(payload[4..].ToArray());
            offset += header + length;
        }
        Assert.Equal(data, received.ToArray());
    }
}
