using System.Buffers;
using System.Text;
using Mtt.Core.WebSockets;
using static Mtt.Tests.WebSockets.ClientFrameBuilder;

namespace Mtt.Tests.WebSockets;

public class FrameDecoderTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(127)]
    [InlineData(65535)]
    [InlineData(65536)]
    [InlineData(200_000)]
    public void BinaryFrame_OfEveryLengthEncoding_YieldsItsUnmaskedPayload(int length)
    {
        byte[] payload = DecoderFeed.Pattern(length);
        byte[] wire = Binary(payload);

        DecodeTranscript transcript = DecoderFeed.Whole(wire);

        Assert.Equal(payload, transcript.Payload);
        Assert.Empty(transcript.Events);
        Assert.Equal(wire.Length, transcript.Consumed);
    }

    [Theory]
    [InlineData(0, LengthEncoding.Bits16)]
    [InlineData(125, LengthEncoding.Bits16)]
    [InlineData(5, LengthEncoding.Bits64)]
    [InlineData(65535, LengthEncoding.Bits64)]
    public void NonMinimalLengthEncoding_IsAccepted(int length, LengthEncoding encoding)
    {
        byte[] payload = DecoderFeed.Pattern(length);
        DecodeTranscript transcript = DecoderFeed.Whole(Frame((int)WebSocketOpcode.Binary, payload, encoding: encoding));
        Assert.Equal(payload, transcript.Payload);
        Assert.Empty(transcript.Events);
    }

    [Fact]
    public void ConsecutiveMessagesAndFragments_FormOneByteStream()
    {
        byte[] a = DecoderFeed.Pattern(10, 1), b = DecoderFeed.Pattern(300, 2), c = DecoderFeed.Pattern(0, 3),
            d = DecoderFeed.Pattern(70_000, 4), e = DecoderFeed.Pattern(7, 5);
        byte[] wire = Concat(
            Binary(a),
            Binary(b, fin: false, maskKey: 0x01020304),
            Continuation(c, fin: false, maskKey: 0x7F00FF01),
            Continuation(d, fin: false, maskKey: unchecked((int)0xCAFEBABE)),
            Continuation(e, fin: true, maskKey: 0x10203040),
            Binary(a));

        DecodeTranscript transcript = DecoderFeed.Whole(wire);

        Assert.Equal([.. a, .. b, .. c, .. d, .. e, .. a], transcript.Payload);
        Assert.Empty(transcript.Events);
        Assert.Equal(wire.Length, transcript.Consumed);
    }

    [Fact]
    public void ZeroLengthBinaryFrames_AreAccepted()
    {
        byte[] wire = Concat(Binary([]), Binary([], fin: false), Continuation([]), Binary([1, 2]));
        DecodeTranscript transcript = DecoderFeed.Whole(wire);
        Assert.Equal(new byte[] { 1, 2 }, transcript.Payload);
        Assert.Empty(transcript.Events);
    }

    [Fact]
    public void ControlFramesBetweenFragments_AreReportedAndTheMessageContinues()
    {
        byte[] first = DecoderFeed.Pattern(50, 1), second = DecoderFeed.Pattern(60, 2);
        byte[] wire = Concat(Binary(first, fin: false), Ping("hi"u8), Pong([]), Continuation(second));

        DecodeTranscript transcript = DecoderFeed.Whole(wire);

        Assert.Equal([.. first, .. second], transcript.Payload);
        Assert.Equal(
            [new(DecodeStatus.Ping, 0, "hi"u8.ToArray()), new(DecodeStatus.Pong, 0, [])],
            transcript.Events, EventComparer.Instance);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(125)]
    public void Ping_ReportsItsUnmaskedPayloadAndStops(int length)
    {
        byte[] payload = DecoderFeed.Pattern(length);
        var buffer = new ReadOnlySequence<byte>(Concat(Ping(payload), Binary([9])));
        var decoder = new FrameDecoder();
        var sink = new ArrayBufferWriter<byte>();

        DecodeResult result = decoder.Decode(ref buffer, sink, 1024);

        Assert.Equal(DecodeStatus.Ping, result.Status);
        Assert.Equal(payload, decoder.ControlPayload.ToArray());
        Assert.Equal(0, sink.WrittenCount);
        Assert.Equal(Binary([9]).Length, buffer.Length);

        result = decoder.Decode(ref buffer, sink, 1024);
        Assert.Equal(DecodeStatus.NeedMoreData, result.Status);
        Assert.Equal(0, decoder.ControlPayload.Length);
        Assert.Equal(new byte[] { 9 }, sink.WrittenSpan.ToArray());
    }

    [Fact]
    public void Pong_IsReportedWithItsPayload()
    {
        DecodeTranscript transcript = DecoderFeed.Whole(Pong("keepalive"u8));
        Assert.Equal([new(DecodeStatus.Pong, 0, "keepalive"u8.ToArray())], transcript.Events, EventComparer.Instance);
    }

    [Fact]
    public void Close_WithoutBody_ReportsNoStatusReceived()
    {
        DecodeTranscript transcript = DecoderFeed.Whole(Frame((int)WebSocketOpcode.Close, []));
        Assert.Equal([new(DecodeStatus.Close, WebSocketCloseCodes.NoStatusReceived, [])], transcript.Events, EventComparer.Instance);
    }

    [Theory]
    [InlineData(WebSocketCloseCodes.NormalClosure, "")]
    [InlineData(WebSocketCloseCodes.GoingAway, "bye")]
    [InlineData((ushort)1003, "")]
    [InlineData((ushort)1007, "")]
    [InlineData((ushort)1010, "")]
    [InlineData((ushort)1011, "")]
    [InlineData((ushort)1012, "")]
    [InlineData((ushort)1013, "")]
    [InlineData((ushort)1014, "")]
    [InlineData((ushort)3000, "")]
    [InlineData((ushort)4999, "räsön ✓")]
    public void Close_WithValidCodeAndReason_ReportsTheCode(ushort code, string reason)
    {
        DecodeTranscript transcript = DecoderFeed.Whole(Close(code, reason));

        DecodedEvent close = Assert.Single(transcript.Events);
        Assert.Equal(DecodeStatus.Close, close.Status);
        Assert.Equal(code, close.CloseCode);
        Assert.Equal(reason, Encoding.UTF8.GetString(close.ControlPayload.AsSpan(2)));
    }

    [Fact]
    public void Close_WithMaximalReason_IsAccepted()
    {
        DecodeTranscript transcript = DecoderFeed.Whole(Close(1000, new string('x', 123)));
        Assert.Equal(DecodeStatus.Close, Assert.Single(transcript.Events).Status);
    }

    [Fact]
    public void PayloadBeforeAControlFrame_IsCountedInTheSameCall()
    {
        var buffer = new ReadOnlySequence<byte>(Concat(Binary(new byte[40]), Close(1000)));
        var sink = new ArrayBufferWriter<byte>();

        DecodeResult result = new FrameDecoder().Decode(ref buffer, sink, 1024);

        Assert.Equal(DecodeStatus.Close, result.Status);
        Assert.Equal(40, result.PayloadBytes);
        Assert.Equal(1000, result.CloseCode);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void EmptyBuffer_NeedsMoreData()
    {
        var buffer = ReadOnlySequence<byte>.Empty;
        DecodeResult result = new FrameDecoder().Decode(ref buffer, new ArrayBufferWriter<byte>(), 1);
        Assert.Equal(DecodeStatus.NeedMoreData, result.Status);
        Assert.Equal(0, result.PayloadBytes);
    }

    [Fact]
    public void NonPositivePayloadBudget_Throws()
    {
        var buffer = ReadOnlySequence<byte>.Empty;
        Assert.Throws<ArgumentOutOfRangeException>(() => new FrameDecoder().Decode(ref buffer, new ArrayBufferWriter<byte>(), 0));
    }

    internal sealed class EventComparer : IEqualityComparer<DecodedEvent>
    {
        public static readonly EventComparer Instance = new();

        public bool Equals(DecodedEvent? x, DecodedEvent? y) =>
            x is not null && y is not null && x.Status == y.Status && x.CloseCode == y.CloseCode
            && x.ControlPayload.AsSpan().SequenceEqual(y.ControlPayload);

        public int GetHashCode(DecodedEvent obj) => HashCode.Combine(obj.Status, obj.CloseCode);
    }
}
