using System.Buffers;
using Mtt.Core.WebSockets;
using static Mtt.Tests.WebSockets.ClientFrameBuilder;

namespace Mtt.Tests.WebSockets;

public class FrameDecoderErrorTests
{
    private const int BinaryOpcode = (int)WebSocketOpcode.Binary;

    public static TheoryData<string, byte[], ushort> Violations => new()
    {
        { "unmasked client frame", Frame(BinaryOpcode, [1, 2, 3], masked: false), WebSocketCloseCodes.ProtocolError },
        { "unmasked ping", Frame((int)WebSocketOpcode.Ping, [], masked: false), WebSocketCloseCodes.ProtocolError },
        { "RSV1", Frame(BinaryOpcode, [1], rsvBits: 4), WebSocketCloseCodes.ProtocolError },
        { "RSV2", Frame(BinaryOpcode, [1], rsvBits: 2), WebSocketCloseCodes.ProtocolError },
        { "RSV3", Frame(BinaryOpcode, [1], rsvBits: 1), WebSocketCloseCodes.ProtocolError },
        { "opcode 3", Frame(3, [1]), WebSocketCloseCodes.ProtocolError },
        { "opcode 7", Frame(7, [1]), WebSocketCloseCodes.ProtocolError },
        { "opcode 11", Frame(11, [1]), WebSocketCloseCodes.ProtocolError },
        { "opcode 15", Frame(15, [1]), WebSocketCloseCodes.ProtocolError },
        { "text frame", Frame((int)WebSocketOpcode.Text, "hi"u8), WebSocketCloseCodes.UnsupportedData },
        { "fragmented ping", Frame((int)WebSocketOpcode.Ping, [], fin: false), WebSocketCloseCodes.ProtocolError },
        { "fragmented close", Frame((int)WebSocketOpcode.Close, [3, 232], fin: false), WebSocketCloseCodes.ProtocolError },
        { "ping over 125", Frame((int)WebSocketOpcode.Ping, new byte[126]), WebSocketCloseCodes.ProtocolError },
        { "pong over 125", Frame((int)WebSocketOpcode.Pong, new byte[200]), WebSocketCloseCodes.ProtocolError },
        { "64-bit length with top bit", Header(BinaryOpcode, long.MinValue + 5), WebSocketCloseCodes.ProtocolError },
        { "64-bit length all ones", Header(BinaryOpcode, -1, encoding: LengthEncoding.Bits64), WebSocketCloseCodes.ProtocolError },
        { "length over the bound", Header(BinaryOpcode, FrameDecoder.DefaultMaxFramePayload + 1), WebSocketCloseCodes.MessageTooBig },
        { "continuation without message", Continuation([1]), WebSocketCloseCodes.ProtocolError },
        { "binary inside fragmented message", Concat(Binary([1], fin: false), Binary([2])), WebSocketCloseCodes.ProtocolError },
        { "text inside fragmented message", Concat(Binary([1], fin: false), Frame((int)WebSocketOpcode.Text, [2])), WebSocketCloseCodes.ProtocolError },
        { "close with 1-byte body", Frame((int)WebSocketOpcode.Close, [3]), WebSocketCloseCodes.ProtocolError },
        { "close code 0", Close(0), WebSocketCloseCodes.ProtocolError },
        { "close code 999", Close(999), WebSocketCloseCodes.ProtocolError },
        { "close code 1004", Close(1004), WebSocketCloseCodes.ProtocolError },
        { "close code 1005", Close(1005), WebSocketCloseCodes.ProtocolError },
        { "close code 1006", Close(1006), WebSocketCloseCodes.ProtocolError },
        { "close code 1015", Close(1015), WebSocketCloseCodes.ProtocolError },
        { "close code 1016", Close(1016), WebSocketCloseCodes.ProtocolError },
        { "close code 2000", Close(2000), WebSocketCloseCodes.ProtocolError },
        { "close code 2999", Close(2999), WebSocketCloseCodes.ProtocolError },
        { "close code 5000", Close(5000), WebSocketCloseCodes.ProtocolError },
        { "close code 65535", Close(65535), WebSocketCloseCodes.ProtocolError },
        { "close reason invalid UTF-8", CloseRaw(1000, [0x61, 0xC3, 0x28]), WebSocketCloseCodes.InvalidPayloadData },
        { "close reason truncated UTF-8", CloseRaw(1000, [0xE2, 0x82]), WebSocketCloseCodes.InvalidPayloadData },
        { "close reason surrogate", CloseRaw(1000, [0xED, 0xA0, 0x80]), WebSocketCloseCodes.InvalidPayloadData },
        { "frame after close", Concat(Close(1000), Binary([1])), WebSocketCloseCodes.ProtocolError },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public void Violation_IsAProtocolErrorWithItsCloseCode(string violation, byte[] wire, ushort expectedCode)
    {
        DecodeTranscript transcript = DecoderFeed.Whole(wire);

        DecodedEvent last = transcript.Events[^1];
        Assert.True(last.Status == DecodeStatus.ProtocolError, violation);
        Assert.Equal(expectedCode, last.CloseCode);
        Assert.Empty(last.ControlPayload);
    }

    /// <summary>Every violation but the text frame's: after these the frame boundaries are lost.</summary>
    public static TheoryData<string, byte[], ushort> FramingViolations
    {
        get
        {
            var framing = new TheoryData<string, byte[], ushort>();
            foreach (var row in Violations)
            {
                if ((ushort)row[2] != WebSocketCloseCodes.UnsupportedData) framing.Add((string)row[0], (byte[])row[1], (ushort)row[2]);
            }
            return framing;
        }
    }

    [Fact]
    public void TextFrame_IsRefused_ThenTheDecoderDrainsEveryDataFrameUntilTheClose()
    {
        var decoder = new FrameDecoder();
        var sink = new ArrayBufferWriter<byte>();
        var buffer = new ReadOnlySequence<byte>(Concat(
            Binary([1]), Frame((int)WebSocketOpcode.Text, [2, 3]), Binary([4], fin: false), Frame((int)WebSocketOpcode.Text, [5]),
            Continuation([6]), Ping([7]), Binary([8]), Close(1000)));

        DecodeResult refused = decoder.Decode(ref buffer, sink, 100);
        Assert.Equal(DecodeStatus.ProtocolError, refused.Status);
        Assert.Equal(WebSocketCloseCodes.UnsupportedData, refused.CloseCode);
        Assert.False(decoder.HasFailed);
        Assert.Equal(new byte[] { 1 }, sink.WrittenSpan.ToArray());

        // Draining: fragmentation rules no longer matter, only frame boundaries do.
        sink.Clear();
        DecodeResult ping = decoder.Decode(ref buffer, sink, 100);
        Assert.Equal(DecodeStatus.Ping, ping.Status);
        DecodeResult close = decoder.Decode(ref buffer, sink, 100);
        Assert.Equal(DecodeStatus.Close, close.Status);
        Assert.Equal(WebSocketCloseCodes.NormalClosure, close.CloseCode);
        Assert.Equal(new byte[] { 2, 3, 4, 5, 6, 8 }, sink.WrittenSpan.ToArray());
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void FramingViolation_WhileDrainingAfterAText_FailsTheDecoderForGood()
    {
        var decoder = new FrameDecoder();
        var sink = new ArrayBufferWriter<byte>();
        var buffer = new ReadOnlySequence<byte>(Concat(Frame((int)WebSocketOpcode.Text, [1]), Frame(BinaryOpcode, [2], masked: false)));

        Assert.Equal(WebSocketCloseCodes.UnsupportedData, decoder.Decode(ref buffer, sink, 100).CloseCode);
        DecodeResult broken = decoder.Decode(ref buffer, sink, 100);
        Assert.Equal(DecodeStatus.ProtocolError, broken.Status);
        Assert.Equal(WebSocketCloseCodes.ProtocolError, broken.CloseCode);

        var valid = new ReadOnlySequence<byte>(Close(1000));
        Assert.Equal(WebSocketCloseCodes.ProtocolError, decoder.Decode(ref valid, sink, 100).CloseCode);
    }

    [Theory]
    [MemberData(nameof(FramingViolations))]
    public void Violation_LeavesTheDecoderFailedForGood(string violation, byte[] wire, ushort expectedCode)
    {
        var decoder = new FrameDecoder();
        var sink = new ArrayBufferWriter<byte>();
        DecoderFeed.Run(decoder, wire);
        Assert.True(decoder.HasFailed, violation);

        var valid = new ReadOnlySequence<byte>(Binary([1, 2, 3]));
        DecodeResult again = decoder.Decode(ref valid, sink, 100);

        Assert.True(again.Status == DecodeStatus.ProtocolError, violation);
        Assert.Equal(expectedCode, again.CloseCode);
        Assert.Equal(0, again.PayloadBytes);
        Assert.Equal(0, sink.WrittenCount);
    }

    [Fact]
    public void ViolationsDetectableFromTwoBytes_AreReportedWithoutWaitingForTheRest()
    {
        // Only the first two bytes of a text frame and of an unmasked frame have arrived.
        foreach (byte[] start in new[] { Frame((int)WebSocketOpcode.Text, new byte[300])[..2], Frame(BinaryOpcode, [1], masked: false)[..2] })
        {
            var buffer = new ReadOnlySequence<byte>(start);
            DecodeResult result = new FrameDecoder().Decode(ref buffer, new ArrayBufferWriter<byte>(), 100);
            Assert.Equal(DecodeStatus.ProtocolError, result.Status);
        }
    }

    [Fact]
    public void PayloadBeforeAViolation_IsDeliveredAndCounted()
    {
        var buffer = new ReadOnlySequence<byte>(Concat(Binary([1, 2, 3]), Frame(3, [])));
        var sink = new ArrayBufferWriter<byte>();

        DecodeResult result = new FrameDecoder().Decode(ref buffer, sink, 100);

        Assert.Equal(DecodeStatus.ProtocolError, result.Status);
        Assert.Equal(3, result.PayloadBytes);
        Assert.Equal(new byte[] { 1, 2, 3 }, sink.WrittenSpan.ToArray());
    }

    [Fact]
    public void LengthAtTheConfiguredBound_IsAcceptedAndOneOverIsTooBig()
    {
        Assert.Empty(DecoderFeed.Whole(Binary(new byte[1000]), maxFramePayload: 1000).Events);

        DecodeTranscript over = DecoderFeed.Whole(Binary(new byte[1001]), maxFramePayload: 1000);
        Assert.Equal(WebSocketCloseCodes.MessageTooBig, Assert.Single(over.Events).CloseCode);
    }

    [Fact]
    public void ControlFrames_AreNotSubjectToTheDataFrameBound()
    {
        DecodeTranscript transcript = DecoderFeed.Whole(Ping(new byte[100]), maxFramePayload: 10);
        Assert.Equal(DecodeStatus.Ping, Assert.Single(transcript.Events).Status);
    }
}
