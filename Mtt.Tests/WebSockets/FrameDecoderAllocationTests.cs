using System.Buffers;
using Mtt.Core.WebSockets;
using static Mtt.Tests.WebSockets.ClientFrameBuilder;

using Mtt.Tests.Support;

namespace Mtt.Tests.WebSockets;

public class FrameDecoderAllocationTests
{
    private const int WarmUpRounds = 50;
    private const int MeasuredRounds = 200;

    [Theory]
    [InlineData(0)]        // one segment
    [InlineData(1000)]     // many segments, headers spanning them
    public void Decode_InSteadyState_AllocatesNothing(int segmentLength)
    {
        byte[] wire = Concat(
            Binary(DecoderFeed.Pattern(16 * 1024)),
            Ping("ping"u8),
            Binary(DecoderFeed.Pattern(300), fin: false),
            Pong([]),
            Continuation(DecoderFeed.Pattern(70_000)),
            Binary([]));
        ReadOnlySequence<byte> whole = segmentLength == 0
            ? new ReadOnlySequence<byte>(wire)
            : SegmentedSequence.Chunked(wire, segmentLength);
        var decoder = new FrameDecoder();
        var sink = new ArrayBufferWriter<byte>(wire.Length);

        DecodeRound(decoder, whole, sink, WarmUpRounds);
        long before = GC.GetAllocatedBytesForCurrentThread();
        DecodeRound(decoder, whole, sink, MeasuredRounds);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    private static void DecodeRound(FrameDecoder decoder, ReadOnlySequence<byte> whole, ArrayBufferWriter<byte> sink, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            sink.ResetWrittenCount();
            ReadOnlySequence<byte> buffer = whole;
            DecodeStatus status;
            do status = decoder.Decode(ref buffer, sink, 8192).Status;
            while (status != DecodeStatus.NeedMoreData);
            if (!buffer.IsEmpty || sink.WrittenCount != 16 * 1024 + 300 + 70_000)
                throw new InvalidOperationException("the round did not decode the whole wire");
        }
    }
}
