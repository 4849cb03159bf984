using System.Buffers;
using Mtt.Core.WebSockets;

using Mtt.Tests.Support;

namespace Mtt.Tests.WebSockets;

/// <summary>
/// Drives a <see cref="FrameDecoder"/> the way a pipe reader would: the wire arrives in pieces, what
/// the decoder did not consume is offered again together with the next piece, and each offer keeps
/// the arrival boundaries as segment boundaries.
/// </summary>
public static class DecoderFeed
{
    public static DecodeTranscript Run(FrameDecoder decoder, byte[] wire, int[]? arrivals = null, int maxPayloadBytes = int.MaxValue)
    {
        arrivals ??= [];
        var sink = new ArrayBufferWriter<byte>();
        var events = new List<DecodedEvent>();
        int consumed = 0;
        int[] ends = [.. arrivals, wire.Length];
        foreach (int arrived in ends)
        {
            if (arrived < consumed) continue;
            int[] cuts = arrivals.Where(a => a > consumed && a < arrived).Select(a => a - consumed).ToArray();
            ReadOnlySequence<byte> buffer = SegmentedSequence.SplitAt(wire[consumed..arrived], cuts);
            while (true)
            {
                int before = sink.WrittenCount;
                DecodeResult result = decoder.Decode(ref buffer, sink, maxPayloadBytes);
                Assert.Equal(sink.WrittenCount - before, result.PayloadBytes);
                Assert.True(result.PayloadBytes <= maxPayloadBytes);
                consumed = arrived - (int)buffer.Length;
                if (result.Status == DecodeStatus.NeedMoreData) break;
                if (result.Status == DecodeStatus.SinkLimitReached)
                {
                    Assert.Equal(maxPayloadBytes, result.PayloadBytes);
                    continue;
                }
                events.Add(new DecodedEvent(result.Status, result.CloseCode, decoder.ControlPayload.ToArray()));
                if (result.Status == DecodeStatus.ProtocolError)
                    return new DecodeTranscript(sink.WrittenSpan.ToArray(), events, consumed);
            }
        }
        return new DecodeTranscript(sink.WrittenSpan.ToArray(), events, consumed);
    }

    /// <summary>Decodes a wire offered whole, in one segment.</summary>
    public static DecodeTranscript Whole(byte[] wire, long maxFramePayload = FrameDecoder.DefaultMaxFramePayload) =>
        Run(new FrameDecoder(maxFramePayload), wire);

    /// <summary>A deterministic payload whose bytes differ from their neighbours.</summary>
    public static byte[] Pattern(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
