using System.Buffers;
using System.Text;
using Mtt.Core.Http;
using Mtt.Tests.Support;

namespace Mtt.Tests.Http;

/// <summary>The one head parser's HTTP/1.1 syntax, limits and positions, under a handler that adds no rules.</summary>
public class HttpHeadParserTests
{
    private const int Limit = 1024;

    private static (HeadParseResult Result, RequestHead Head, int Completions) Parse(in ReadOnlySequence<byte> buffer, int limit = Limit, int maxHeaderCount = 8)
    {
        var handler = new RecordingHandler();
        var result = HttpHeadParser.Parse(buffer, limit, maxHeaderCount, ref handler);
        return (result, handler.Head, handler.Completions);
    }

    private static (HeadParseResult Result, RequestHead Head, int Completions) Parse(string text, int limit = Limit, int maxHeaderCount = 8) =>
        Parse(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(text)), limit, maxHeaderCount);

    // The reason by name: the enum is internal, and a public theory cannot take it as a parameter.
    private static void AssertRefused(string text, string reason)
    {
        var (result, _, completions) = Parse(text);
        Assert.Equal(HeadParseStatus.Invalid, result.Status);
        Assert.Equal(reason, result.Reason.ToString());
        Assert.Equal(0, completions);
    }

    [Theory]
    [InlineData("\r\n")]
    [InlineData("\n")]
    public void LinesEndingInCrLfOrBareLf_ParseAlike(string lineEnd)
    {
        string text = "POST /a?b HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\nConnection: keep-alive, Close\r\nExpect: 100-continue\r\n\r\n".Replace("\r\n", lineEnd, StringComparison.Ordinal);
        byte[] bytes = Encoding.ASCII.GetBytes(text + "body");

        var (result, head, completions) = Parse(new ReadOnlySequence<byte>(bytes));

        Assert.Equal(HeadParseStatus.Complete, result.Status);
        Assert.Equal(1, completions);
        Assert.Equal(text.Length, head.Length);
        Assert.Equal("POST", Encoding.ASCII.GetString(bytes[head.Method]));
        Assert.Equal("/a?b", Encoding.ASCII.GetString(bytes[head.Target]));
        Assert.Equal("h", Encoding.ASCII.GetString(bytes[head.Host]));
        Assert.Equal(RequestVersion.Http11, head.Version);
        Assert.Equal(12, head.ContentLength);
        Assert.True(head.ConnectionClose);
        Assert.True(head.ExpectsContinue);
    }

    [Fact]
    public void CompleteHead_IsConsumedAndExaminedUpToItsEmptyLine()
    {
        byte[] bytes = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: h\n\r\nNEXT");
        var buffer = new ReadOnlySequence<byte>(bytes);

        var (result, _, _) = Parse(buffer);

        Assert.Equal(HeadParseStatus.Complete, result.Status);
        Assert.Equal("NEXT", Encoding.ASCII.GetString(buffer.Slice(result.Consumed).ToArray()));
        Assert.Equal(result.Consumed, result.Examined);
    }

    [Fact]
    public void EmptyLinesBeforeTheRequestLine_AreConsumedWhileTheHeadArrives()
    {
        var buffer = new ReadOnlySequence<byte>("\r\n\n\r\nGET / HT"u8.ToArray());

        var (result, _, _) = Parse(buffer);

        Assert.Equal(HeadParseStatus.Incomplete, result.Status);
        Assert.Equal("GET / HT", Encoding.ASCII.GetString(buffer.Slice(result.Consumed).ToArray()));
        Assert.Equal(buffer.End, result.Examined);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", nameof(RequestRejectionReason.InvalidHeaderValue))]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nX: v\r\r\n\r\n", nameof(RequestRejectionReason.InvalidHeaderValue))]
    [InlineData("GET / HTTP/1.1\r\r\nHost: h\r\n\r\n", nameof(RequestRejectionReason.InvalidHttpVersion))]
    [InlineData("GET /\r HTTP/1.1\r\nHost: h\r\n\r\n", nameof(RequestRejectionReason.InvalidRequestTarget))]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\n\r\r\n", nameof(RequestRejectionReason.InvalidHeaderName))]
    public void BareCrAnywhereButBeforeLf_IsRefused(string text, string reason)
    {
        AssertRefused(text, reason);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", nameof(RequestRejectionReason.ObsoleteLineFolding))]
    [InlineData("GET / HTTP/1.1\r\nHost : h\r\n\r\n", nameof(RequestRejectionReason.InvalidHeaderName))]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nX-No-Colon\r\n\r\n", nameof(RequestRejectionReason.HeaderLineWithoutColon))]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", nameof(RequestRejectionReason.ConflictingContentLengths))]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", nameof(RequestRejectionReason.UnsupportedTransferCoding))]
    [InlineData("GET / HTTP/1.1\r\n\r\n", nameof(RequestRejectionReason.MissingHost))]
    [InlineData("GET / HTTP/1.1\r\nHost: u@h\r\n\r\n", nameof(RequestRejectionReason.InvalidHost))]
    [InlineData("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", nameof(RequestRejectionReason.TransferEncodingInHttp10))]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", nameof(RequestRejectionReason.ContentLengthAndTransferEncoding))]
    [InlineData("GET /  HTTP/1.1\r\n", nameof(RequestRejectionReason.InvalidRequestTarget))]
    [InlineData("GET /\r\n", nameof(RequestRejectionReason.InvalidRequestLine))]
    public void MalformedHead_IsRefusedWithItsReason(string text, string reason)
    {
        AssertRefused(text, reason);
    }

    [Theory]
    [InlineData("\u0016\u0003\u0001")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\n fold")]
    [InlineData("GET / HTTP/1.1\r\nBad(Name")]
    public void GarbageIsRefusedBeforeItsLineEnds(string text)
    {
        Assert.Equal(HeadParseStatus.Invalid, Parse(text).Result.Status);
    }

    [Fact]
    public void HeadOfExactlyTheLimit_IsComplete_OneByteMoreIsTooLarge()
    {
        string head = "GET / HTTP/1.1\r\nHost: h\r\nX: \r\n\r\n";
        string exact = head.Insert(head.Length - 4, new string('x', Limit - head.Length));

        Assert.Equal(HeadParseStatus.Complete, Parse(exact).Result.Status);
        Assert.Equal(RequestRejectionReason.HeadTooLarge, Parse(exact.Insert(30, "x")).Result.Reason);
    }

    [Fact]
    public void HeaderLinesBeyondTheCount_AreTooMany()
    {
        string head = "GET / HTTP/1.1\r\nHost: h\r\n" + string.Concat(Enumerable.Repeat("X: v\r\n", 7));

        Assert.Equal(HeadParseStatus.Complete, Parse(head + "\r\n").Result.Status);
        Assert.Equal(RequestRejectionReason.TooManyHeaders, Parse(head + "X: v\r\n").Result.Reason);
    }

    [Fact]
    public void HeadLargerThanTheStackCopy_AcrossSegments_IsParsedFromAPooledCopy()
    {
        const int limit = 32 * 1024;
        byte[] bytes = Encoding.ASCII.GetBytes("POST / HTTP/1.1\r\nHost: h\r\nX-Pad: " + new string('p', 20_000) + "\r\nContent-Length: 3\r\n\r\nabc");

        var (result, head, _) = Parse(SegmentedSequence.SplitAt(bytes, 5, 10_000, 20_030), limit);

        Assert.Equal(HeadParseStatus.Complete, result.Status);
        Assert.Equal(3, head.ContentLength);
        Assert.Equal(bytes.Length - 3, head.Length);
    }

    [Fact]
    public void EveryReason_HasAnErrorStatusAndAText()
    {
        foreach (var reason in Enum.GetValues<RequestRejectionReason>().Where(r => r != RequestRejectionReason.None))
        {
            Assert.InRange(RequestRejection.StatusCode(reason), 400, 599);
            Assert.False(string.IsNullOrEmpty(RequestRejection.Text(reason)), reason.ToString());
        }
    }

    // Accepts any well-formed head and keeps a copy of it, as a caller's handler would keep what it needs.
    private struct RecordingHandler : IRequestHeadHandler
    {
        public RequestHead Head;
        public int Completions;

        public readonly RequestRejectionReason OnRequestLine(ReadOnlySpan<byte> bytes, in RequestHead head) => RequestRejectionReason.None;

        public readonly RequestRejectionReason OnHeader(KnownHeader header, ReadOnlySpan<byte> value, Range valueRange, in RequestHead head) => RequestRejectionReason.None;

        public RequestRejectionReason OnHeadComplete(ReadOnlySpan<byte> bytes, in RequestHead head)
        {
            Head = head;
            Completions++;
            return RequestRejectionReason.None;
        }
    }
}
