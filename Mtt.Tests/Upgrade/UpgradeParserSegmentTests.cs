using System.Buffers;
using Mtt.Core.Upgrade;
using static Mtt.Tests.Upgrade.RequestHeads;

namespace Mtt.Tests.Upgrade;

/// <summary>Heads arriving in pieces: over several segments, and cut short.</summary>
public class UpgradeParserSegmentTests
{
    private static readonly byte[] Frame = [0x82, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];

    private static void AssertGoClientParsed(ReadOnlySequence<byte> buffer, int headLength)
    {
        var result = UpgradeParser.Parse(buffer);
        Assert.Equal(UpgradeParseStatus.Complete, result.Status);
        Assert.Equal(headLength, buffer.Slice(0, result.End).Length);
        var request = result.Request!;
        Assert.Equal("/path_1", request.Path);
        Assert.Equal("example.com", request.Host);
        Assert.Equal(RfcExampleKey, request.WebSocketKey);
        Assert.Equal(Subprotocol.SmuxOff, request.OfferedSubprotocol);
        Assert.True(request.HasUpgradeWebSocket && request.HasConnectionUpgrade);
    }

    [Fact]
    public void HeadSplitInTwoAtEveryPosition_ParsesTheSame()
    {
        byte[] data = [.. Bytes(GoClient), .. Frame];
        int headLength = GoClient.Length;
        for (int cut = 0; cut <= data.Length; cut++)
        {
            var buffer = Split(data, cut);
            AssertGoClientParsed(buffer, headLength);
            Assert.Equal(Frame, buffer.Slice(UpgradeParser.Parse(buffer).End).ToArray());
        }
    }

    [Fact]
    public void HeadSplitInThreeAtEveryPairOfPositions_ParsesTheSame()
    {
        byte[] data = Bytes(GoClient);
        for (int first = 1; first < data.Length; first++)
        {
            for (int second = first; second < data.Length; second++)
            {
                AssertGoClientParsed(Split(data, first, second), data.Length);
            }
        }
    }

    [Fact]
    public void HeadOneBytePerSegment_Parses()
    {
        byte[] data = [.. Bytes(GoClient), .. Frame];
        var cuts = new int[data.Length - 1];
        for (int i = 0; i < cuts.Length; i++) cuts[i] = i + 1;
        var buffer = Split(data, cuts);
        AssertGoClientParsed(buffer, GoClient.Length);
        Assert.Equal(Frame, buffer.Slice(UpgradeParser.Parse(buffer).End).ToArray());
    }

    [Fact]
    public void EmptySegments_AreSkipped()
    {
        byte[] head = Bytes(GoClient);
        var buffer = Segments([], head[..10], [], head[10..], []);
        AssertGoClientParsed(buffer, head.Length);
    }

    [Fact]
    public void EveryProperPrefix_IsIncomplete_InOneOrTwoSegments()
    {
        byte[] head = Bytes(GoClient);
        for (int length = 0; length < head.Length; length++)
        {
            var single = new ReadOnlySequence<byte>(head, 0, length);
            var result = UpgradeParser.Parse(single);
            Assert.Equal(UpgradeParseStatus.Incomplete, result.Status);
            Assert.Equal(single.End, result.End);
            Assert.Null(result.Request);

            var split = Split(head[..length], length / 2);
            Assert.Equal(UpgradeParseStatus.Incomplete, UpgradeParser.Parse(split).Status);
        }
    }

    [Fact]
    public void HeadInFirstSegment_WithFramesInLaterSegments_EndsInFirstSegment()
    {
        byte[] head = Bytes(GoClient);
        var buffer = Segments(head, Frame, Frame);
        var result = UpgradeParser.Parse(buffer);
        Assert.Equal(UpgradeParseStatus.Complete, result.Status);
        Assert.Equal([.. Frame, .. Frame], buffer.Slice(result.End).ToArray());
    }

    [Fact]
    public void RefusalAcrossSegments_IsFound()
    {
        byte[] head = Bytes(With("GET /p HTTP/1.0"));
        for (int cut = 1; cut < head.Length; cut++)
        {
            var result = UpgradeParser.Parse(Split(head, cut));
            Assert.Equal(UpgradeParseStatus.Invalid, result.Status);
            Assert.Equal(400, result.RefusalStatus);
        }
    }

    [Fact]
    public void OversizeHeadAcrossSegments_Gets431()
    {
        byte[] data = Bytes("GET /p HTTP/1.1\r\nHost: h\r\nX-Long: " + new string('a', UpgradeParser.MaxHeadBytes) + "\r\n\r\n");
        var result = UpgradeParser.Parse(Split(data, 100, 5000, 8000));
        Assert.Equal(UpgradeParseStatus.Invalid, result.Status);
        Assert.Equal(431, result.RefusalStatus);
    }

    [Fact]
    public void MaxHeadBytesAcrossSegmentsWithoutBlankLine_IsIncompleteThenOneMoreByteIs431()
    {
        string partial = "GET /p HTTP/1.1\r\nHost: h\r\nX-Long: ";
        byte[] data = Bytes(partial + new string('a', UpgradeParser.MaxHeadBytes - partial.Length));
        Assert.Equal(UpgradeParseStatus.Incomplete, UpgradeParser.Parse(Split(data, 3000, 6000)).Status);

        var over = UpgradeParser.Parse(Segments(data[..3000], data[3000..], [(byte)'a']));
        Assert.Equal(UpgradeParseStatus.Invalid, over.Status);
        Assert.Equal(431, over.RefusalStatus);
    }

    [Fact]
    public void HeadEndingExactlyAtMaxHeadBytes_AcrossSegments_WithFramesAfter_Completes()
    {
        string head = With(extraHeaders: "X-Pad: \r\n");
        byte[] padded = Bytes(head.Insert(head.Length - 4, new string('x', UpgradeParser.MaxHeadBytes - head.Length)));
        var buffer = Segments(padded[..4000], padded[4000..], Frame);
        var result = UpgradeParser.Parse(buffer);
        Assert.Equal(UpgradeParseStatus.Complete, result.Status);
        Assert.Equal(Frame, buffer.Slice(result.End).ToArray());
    }
}
