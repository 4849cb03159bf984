using System.Buffers;
using Mtt.Core.WebSockets;
using static Mtt.Tests.WebSockets.ClientFrameBuilder;

using Mtt.Tests.Support;

namespace Mtt.Tests.WebSockets;

public class FrameDecoderStreamingTests
{
    // Every header shape and a control frame between fragments, so each cut lands in each part of a frame.
    private static readonly byte[] First = DecoderFeed.Pattern(5, 1), Second = DecoderFeed.Pattern(130, 2), Third = DecoderFeed.Pattern(3, 3);

    private static readonly byte[] MixedWire = Concat(
        Binary(First),
        Binary(Second, fin: false, maskKey: 0x0BADF00D),
        Ping("ab"u8),
        Continuation(Third, maskKey: 0x13579BDF),
        Frame((int)WebSocketOpcode.Binary, First, encoding: LengthEncoding.Bits64, maskKey: 0x2468ACE0),
        Close(1000, "done"));

    private static readonly byte[] MixedPayload = [.. First, .. Second, .. Third, .. First];

    private static void AssertMixedTranscript(DecodeTranscript transcript)
    {
        Assert.Equal(MixedPayload, transcript.Payload);
        Assert.Equal(2, transcript.Events.Count);
        Assert.Equal(DecodeStatus.Ping, transcript.Events[0].Status);
        Assert.Equal("ab"u8.ToArray(), transcript.Events[0].ControlPayload);
        Assert.Equal(DecodeStatus.Close, transcript.Events[1].Status);
        Assert.Equal(1000, transcript.Events[1].CloseCode);
        Assert.Equal(MixedWire.Length, transcript.Consumed);
    }

    [Fact]
    public void WireArrivingInTwoPieces_DecodesIdentically_ForEveryCut()
    {
        for (int cut = 0; cut <= MixedWire.Length; cut++)
            AssertMixedTranscript(DecoderFeed.Run(new FrameDecoder(), MixedWire, [cut]));
    }

    [Fact]
    public void WireInOneSequence_WithASegmentBoundaryAtEveryPosition_DecodesIdentically()
    {
        for (int cut = 0; cut <= MixedWire.Length; cut++)
        {
            var decoder = new FrameDecoder();
            var buffer = SegmentedSequence.SplitAt(MixedWire, cut);
            var sink = new ArrayBufferWriter<byte>();

            DecodeResult ping = decoder.Decode(ref buffer, sink, int.MaxValue);
            Assert.Equal(DecodeStatus.Ping, ping.Status);
            DecodeResult close = decoder.Decode(ref buffer, sink, int.MaxValue);
            Assert.Equal(DecodeStatus.Close, close.Status);

            Assert.Equal(MixedPayload, sink.WrittenSpan.ToArray());
            Assert.True(buffer.IsEmpty);
        }
    }

    [Fact]
    public void WireArrivingOneByteAtATime_DecodesIdentically()
    {
        int[] everyByte = Enumerable.Range(1, MixedWire.Length - 1).ToArray();
        AssertMixedTranscript(DecoderFeed.Run(new FrameDecoder(), MixedWire, everyByte));
    }

    [Fact]
    public void WireInOneByteSegments_DecodesIdentically()
    {
        var buffer = SegmentedSequence.Chunked(MixedWire, 1);
        var decoder = new FrameDecoder();
        var sink = new ArrayBufferWriter<byte>();
        Assert.Equal(DecodeStatus.Ping, decoder.Decode(ref buffer, sink, int.MaxValue).Status);
        Assert.Equal(DecodeStatus.Close, decoder.Decode(ref buffer, sink, int.MaxValue).Status);
        Assert.Equal(MixedPayload, sink.WrittenSpan.ToArray());
    }

    [Fact]
    public void PartialPayload_IsDeliveredBeforeTheFrameIsWhole()
    {
        byte[] payload = DecoderFeed.Pattern(1000);
        byte[] wire = Binary(payload);
        var decoder = new FrameDecoder();
        var sink = new ArrayBufferWriter<byte>();

        var buffer = new ReadOnlySequence<byte>(wire[..(4 + 4 + 300)]);   // 16-bit length header, key, 300 bytes
        DecodeResult result = decoder.Decode(ref buffer, sink, int.MaxValue);

        Assert.Equal(DecodeStatus.NeedMoreData, result.Status);
        Assert.Equal(300, result.PayloadBytes);
        Assert.True(buffer.IsEmpty);
        Assert.Equal(payload[..300], sink.WrittenSpan.ToArray());

        buffer = new ReadOnlySequence<byte>(wire[(8 + 300)..]);
        result = decoder.Decode(ref buffer, sink, int.MaxValue);
        Assert.Equal(700, result.PayloadBytes);
        Assert.Equal(payload, sink.WrittenSpan.ToArray());
    }

    [Fact]
    public void PartialHeaderAndPartialControlFrame_StayInTheBuffer()
    {
        byte[] ping = Ping("hello"u8);
        var decoder = new FrameDecoder();
        var sink = new ArrayBufferWriter<byte>();
        for (int available = 0; available < ping.Length; available++)
        {
            var buffer = new ReadOnlySequence<byte>(ping[..available]);
            DecodeResult result = decoder.Decode(ref buffer, sink, 100);
            Assert.Equal(DecodeStatus.NeedMoreData, result.Status);
            Assert.Equal(available, buffer.Length);
        }
    }

    [Fact]
    public void LargePayloadInManySegments_IsDeliveredWhole()
    {
        byte[] payload = DecoderFeed.Pattern(1_000_003, seed: 77);
        byte[] wire = Concat(Binary(payload, maskKey: unchecked((int)0x9E3779B9)), Binary(payload[..65536], fin: false), Continuation(payload[..17]));
        foreach (int segmentLength in new[] { 7, 1000, 4096, 65535 })
        {
            var buffer = SegmentedSequence.Chunked(wire, segmentLength);
            var sink = new ArrayBufferWriter<byte>(wire.Length);

            DecodeResult result = new FrameDecoder().Decode(ref buffer, sink, int.MaxValue);

            Assert.Equal(DecodeStatus.NeedMoreData, result.Status);
            Assert.Equal(payload.Length + 65536 + 17, result.PayloadBytes);
            Assert.True(buffer.IsEmpty);
            Assert.Equal([.. payload, .. payload[..65536], .. payload[..17]], sink.WrittenSpan.ToArray());
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(64)]
    [InlineData(129)]
    [InlineData(4096)]
    public void SinkLimitReached_ThenResume_ContinuesExactly(int budget)
    {
        byte[] payload = DecoderFeed.Pattern(10_000, seed: 5);
        byte[] wire = Concat(Binary(payload[..4000]), Ping("p"u8), Binary(payload[4000..9000], fin: false), Continuation(payload[9000..]));
        var decoder = new FrameDecoder();
        var buffer = SegmentedSequence.Chunked(wire, 1500);
        var sink = new ArrayBufferWriter<byte>();
        int pings = 0, limits = 0;

        while (true)
        {
            int before = sink.WrittenCount;
            DecodeResult result = decoder.Decode(ref buffer, sink, budget);
            Assert.Equal(sink.WrittenCount - before, result.PayloadBytes);
            if (result.Status == DecodeStatus.NeedMoreData) break;
            if (result.Status == DecodeStatus.Ping) pings++;
            else
            {
                Assert.Equal(DecodeStatus.SinkLimitReached, result.Status);
                Assert.Equal(budget, result.PayloadBytes);
                limits++;
            }
        }

        Assert.Equal(payload, sink.WrittenSpan.ToArray());
        Assert.Equal(1, pings);
        // The budget is per call, and the ping ends a call: 4000 bytes come before it, 6000 after.
        Assert.Equal(4000 / budget + 6000 / budget, limits);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void SinkLimitReached_StopsAtTheLimitAndLeavesTheRestUnconsumed()
    {
        byte[] payload = DecoderFeed.Pattern(100);
        byte[] wire = Binary(payload);
        var buffer = new ReadOnlySequence<byte>(wire);
        var sink = new ArrayBufferWriter<byte>();

        DecodeResult result = new FrameDecoder().Decode(ref buffer, sink, 40);

        Assert.Equal(DecodeStatus.SinkLimitReached, result.Status);
        Assert.Equal(40, result.PayloadBytes);
        Assert.Equal(60, buffer.Length);
        Assert.Equal(payload[..40], sink.WrittenSpan.ToArray());
    }

    [Fact]
    public void SinkGivingSmallSpans_ReceivesThePayloadInPieces()
    {
        byte[] payload = DecoderFeed.Pattern(1000);
        var buffer = new ReadOnlySequence<byte>(Binary(payload));
        var sink = new StingySink(7);

        DecodeResult result = new FrameDecoder().Decode(ref buffer, sink, int.MaxValue);

        Assert.Equal(1000, result.PayloadBytes);
        Assert.Equal(payload, sink.Written.ToArray());
    }

    /// <summary>A writer whose spans are never longer than a few bytes, like a nearly full pipe segment.</summary>
    private sealed class StingySink(int spanLength) : IBufferWriter<byte>
    {
        private readonly ArrayBufferWriter<byte> _inner = new();

        public ReadOnlySpan<byte> Written => _inner.WrittenSpan;

        public void Advance(int count)
        {
            Assert.InRange(count, 1, spanLength);
            _inner.Advance(count);
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => _inner.GetMemory(Math.Max(sizeHint, spanLength))[..spanLength];

        public Span<byte> GetSpan(int sizeHint = 0) => _inner.GetSpan(Math.Max(sizeHint, spanLength))[..spanLength];
    }
}
