using System.Buffers;
using System.Text;
using Mtt.Core.Control.Http;
using Mtt.Core.Http;

namespace Mtt.Tests.Control.Http;

/// <summary>The controller's rules on the one head parser: any method, HTTP/1.0 and 1.1, body framing, keep-alive.</summary>
public class ControllerHeadHandlerTests
{
    // Each text is a head without its ending empty line, which this adds.
    private static (bool Ok, ControllerRequest Head, HttpRejection Rejection) Parse(string head)
    {
        var handler = new ControllerHeadHandler();
        var buffer = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(head + "\r\n\r\n"));
        var result = HttpHeadParser.Parse(buffer, ControllerLimits.DefaultMaxHeadBytes, ControllerHeadHandler.MaxHeaderCount, ref handler);
        Assert.NotEqual(HeadParseStatus.Incomplete, result.Status);
        bool ok = result.Status == HeadParseStatus.Complete;
        return (ok, handler.Request, ok ? default : HttpRejection.Of(result.Reason, ControllerLimits.Default));
    }

    [Fact]
    public void CurlStyleHead_IsParsed()
    {
        var (ok, head, _) = Parse("POST / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n"
            + "Content-Length: 1800000\r\nContent-Type: application/x-www-form-urlencoded\r\nExpect: 100-continue");

        Assert.True(ok);
        Assert.True(head.IsPost);
        Assert.Equal(1_800_000, head.ContentLength);
        Assert.False(head.IsChunked);
        Assert.True(head.ExpectsContinue);
        Assert.True(head.KeepAlive);
    }

    [Fact]
    public void ChunkedWithConnectionClose_IsParsed()
    {
        var (ok, head, _) = Parse("POST /any/path?x=1 HTTP/1.1\r\nhost: x\r\ntransfer-encoding: Chunked\r\nConnection: keep-alive, CLOSE");

        Assert.True(ok);
        Assert.True(head.IsChunked);
        Assert.Equal(ControllerRequest.NoContentLength, head.ContentLength);
        Assert.False(head.KeepAlive);
    }

    [Fact]
    public void BareLfLineEnds_AreAccepted()
    {
        // RFC 9112 section 2.2 lets a recipient end a line at LF alone, as Go's net/http did for the original.
        var (ok, head, _) = Parse("POST /x HTTP/1.1\nHost: x\r\nContent-Length: 12\nConnection: close");

        Assert.True(ok);
        Assert.Equal("/x", head.Target);
        Assert.Equal(12, head.ContentLength);
        Assert.False(head.KeepAlive);
    }

    [Fact]
    public void Http10_IsClosedAfterOneExchange_AndNeedsNoHost()
    {
        var (ok, head, _) = Parse("POST / HTTP/1.0\r\nContent-Length: 2");

        Assert.True(ok);
        Assert.False(head.KeepAlive);
    }

    [Fact]
    public void HugeContentLength_IsALengthNotAnError()
    {
        var (ok, head, _) = Parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999999");

        Assert.True(ok);
        Assert.Equal(long.MaxValue, head.ContentLength);
    }

    [Theory]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked", 400, "both Content-Length and Transfer-Encoding")]
    [InlineData("POST / HTTP/1.1\r\nContent-Length: 5", 400, "missing Host")]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nHost: y", 400, "more than one Host")]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6", 400, "conflicting Content-Length")]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5", 400, "invalid Content-Length")]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5", 400, "invalid Content-Length")]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked", 501, "only chunked")]
    [InlineData("POST / HTTP/1.0\r\nTransfer-Encoding: chunked", 400, "HTTP/1.0")]
    [InlineData("POST / HTTP/1.1\r\nHost : x", 400, "invalid header line")]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\n folded", 400, "invalid header line")]
    [InlineData("POST / HTTP/1.1\r\nHost: x\ny", 400, "invalid header line")]
    [InlineData("POST / HTTP/1.1\r\nHost: x\ry", 400, "invalid character")]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\r", 400, "invalid character")]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nX: \u0001", 400, "invalid character")]
    [InlineData("POST /  HTTP/1.1\r\nHost: x", 400, "invalid request target")]
    [InlineData("POST / HTTP/2.0\r\nHost: x", 505, "version not supported")]
    [InlineData("POST / HTTPS/1.1\r\nHost: x", 400, "invalid HTTP version")]
    [InlineData("POST /\r\nHost: x", 400, "request line")]
    [InlineData("P(ST / HTTP/1.1\r\nHost: x", 400, "invalid method")]
    [InlineData("POST / HTTP/1.1\r\nHost: a b", 400, "invalid Host")]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked", 400, "more than one Transfer-Encoding")]
    public void MalformedHead_IsRefusedWithStatusAndReason(string text, int status, string reason)
    {
        var (ok, _, rejection) = Parse(text);

        Assert.False(ok);
        Assert.Equal(status, rejection.StatusCode);
        Assert.Contains(reason, rejection.Reason);
    }
}
