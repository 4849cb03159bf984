using System.Buffers;
using System.Text;
using Mtt.Core.Control.Http;

namespace Mtt.Tests.Control.Http;

public class ChunkedBodyDecoderTests
{
    private const string Body = "5;name=value\r\nhello\r\n1\r\n \r\nB\r\nworld, json\r\n0\r\nTrailer: x\r\n\r\nNEXT";

    [Fact]
    public void WholeBody_DecodesAndStopsAtItsEnd()
    {
        var output = new ArrayBufferWriter<byte>();
        var decoder = new ChunkedBodyDecoder(limit: 100);
        var input = new SequenceReader<byte>(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(Body)));

        Assert.Equal(ChunkedStatus.Done, decoder.Decode(ref input, output));

        Assert.Equal("hello world, json", Encoding.ASCII.GetString(output.WrittenSpan));
        Assert.Equal("NEXT", Encoding.ASCII.GetString(input.UnreadSequence.ToArray()));
    }

    [Fact]
    public void BodyArrivingOneByteAtATime_DecodesTheSame()
    {
        byte[] bytes = Encoding.ASCII.GetBytes(Body);
        var output = new ArrayBufferWriter<byte>();
        var decoder = new ChunkedBodyDecoder(limit: 100);
        int fed = 0, consumed = 0;
        var status = ChunkedStatus.NeedMoreData;
        while (status == ChunkedStatus.NeedMoreData)
        {
            // The unconsumed bytes plus one more, as a pipe would present them.
            fed++;
            var input = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes, consumed, fed - consumed));
            status = decoder.Decode(ref input, output);
            consumed += (int)input.Consumed;
        }

        Assert.Equal(ChunkedStatus.Done, status);
        Assert.Equal("hello world, json", Encoding.ASCII.GetString(output.WrittenSpan));
        Assert.Equal(bytes.Length - 4, consumed);
    }

    [Fact]
    public void ChunkPastTheLimit_IsTooLargeBeforeItsDataIsRead()
    {
        var output = new ArrayBufferWriter<byte>();
        var decoder = new ChunkedBodyDecoder(limit: 10);
        var input = new SequenceReader<byte>(new ReadOnlySequence<byte>("5\r\nhello\r\n6\r\n"u8.ToArray()));

        Assert.Equal(ChunkedStatus.TooLarge, decoder.Decode(ref input, output));
        Assert.Equal(5, output.WrittenCount);
    }

    [Fact]
    public void BodyOfExactlyTheLimit_IsAccepted()
    {
        var output = new ArrayBufferWriter<byte>();
        var decoder = new ChunkedBodyDecoder(limit: 10);
        var input = new SequenceReader<byte>(new ReadOnlySequence<byte>("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n"u8.ToArray()));

        Assert.Equal(ChunkedStatus.Done, decoder.Decode(ref input, output));
        Assert.Equal(10, decoder.Total);
    }

    [Fact]
    public void AbsurdChunkSize_IsTooLargeNotAnOverflow()
    {
        var decoder = new ChunkedBodyDecoder(limit: 10);
        var input = new SequenceReader<byte>(new ReadOnlySequence<byte>("FFFFFFFFFFFFFFFFFFFFFFFF\r\n"u8.ToArray()));

        Assert.Equal(ChunkedStatus.TooLarge, decoder.Decode(ref input, new ArrayBufferWriter<byte>()));
    }

    [Theory]
    [InlineData("x\r\n", "invalid chunk size")]
    [InlineData("\r\n", "invalid chunk size")]
    [InlineData("5 x\r\n", "invalid chunk size")]
    [InlineData("5\r\nhelloXY", "chunk data not followed by CRLF")]
    [InlineData("5\r\nhello\n", "chunk data not followed by CRLF")]
    [InlineData("5\nhello\n0\n\n", "chunk-size line ended by a bare LF")]
    [InlineData("5;ext=1\nhello\r\n", "chunk-size line ended by a bare LF")]
    [InlineData("0\r\n\n", "trailer line ended by a bare LF")]
    [InlineData("0\r\nTrailer: x\n\r\n", "trailer line ended by a bare LF")]
    public void MalformedFraming_IsRefusedWithReason(string text, string reason)
    {
        var decoder = new ChunkedBodyDecoder(limit: 100);
        var input = new SequenceReader<byte>(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text)));

        Assert.Equal(ChunkedStatus.Malformed, decoder.Decode(ref input, new ArrayBufferWriter<byte>()));
        Assert.Equal(reason, decoder.Error);
    }

    [Fact]
    public void EndlessChunkSizeLine_IsRefused()
    {
        var decoder = new ChunkedBodyDecoder(limit: 100);
        byte[] line = new byte[ChunkedBodyDecoder.MaxLineBytes + 1];
        line.AsSpan().Fill((byte)'0');
        var input = new SequenceReader<byte>(new ReadOnlySequence<byte>(line));

        Assert.Equal(ChunkedStatus.Malformed, decoder.Decode(ref input, new ArrayBufferWriter<byte>()));
    }
}
