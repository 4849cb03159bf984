using System.Buffers;
using System.Text;
using Mtt.Core.Upgrade;
using static Mtt.Tests.Upgrade.RequestHeads;

namespace Mtt.Tests.Upgrade;

public class UpgradeParserRefusalTests
{
    private static void AssertRefused(UpgradeParseResult result, int status)
    {
        Assert.Equal(UpgradeParseStatus.Invalid, result.Status);
        Assert.Equal(status, result.RefusalStatus);
        Assert.False(string.IsNullOrEmpty(result.RefusalReason));
        Assert.Null(result.Request);
    }

    [Theory]
    [InlineData("GET /p HTTP/1.0")]
    [InlineData("GET /p HTTP/2.0")]
    [InlineData("GET /p HTTP/1.2")]
    [InlineData("GET /p http/1.1")]
    [InlineData("GET /p HTTP/1.1 ")]
    [InlineData("GET /p")]
    [InlineData("GET")]
    [InlineData("GET  /p HTTP/1.1")]
    [InlineData("GET /p  HTTP/1.1")]
    [InlineData(" GET /p HTTP/1.1")]
    [InlineData("GET\t/p HTTP/1.1")]
    [InlineData("G(T /p HTTP/1.1")]
    [InlineData("POST /p HTTP/1.0")]
    public void MalformedRequestLineOrVersion_Gets400(string requestLine)
    {
        AssertRefused(Parse(With(requestLine)), 400);
    }

    [Theory]
    [InlineData("GET * HTTP/1.1")]
    [InlineData("GET example.com:443 HTTP/1.1")]
    [InlineData("GET path HTTP/1.1")]
    [InlineData("GET ws://example.com/p HTTP/1.1")]
    [InlineData("GET http:// HTTP/1.1")]
    [InlineData("GET http:///p HTTP/1.1")]
    [InlineData("GET http://user@example.com/p HTTP/1.1")]
    [InlineData("GET /p#frag HTTP/1.1")]
    [InlineData("GET /p\u0001 HTTP/1.1")]
    [InlineData("GET /p\u007f HTTP/1.1")]
    [InlineData("GET /p\u0000 HTTP/1.1")]
    [InlineData("GET /\u00ff HTTP/1.1")]
    [InlineData("GET /\u00c3 HTTP/1.1")]
    public void BadRequestTarget_Gets400(string requestLine)
    {
        AssertRefused(Parse(With(requestLine)), 400);
    }

    [Theory]
    [InlineData("POST /p HTTP/1.1")]
    [InlineData("HEAD /p HTTP/1.1")]
    [InlineData("get /p HTTP/1.1")]
    [InlineData("CONNECT example.com:443 HTTP/1.1")]
    [InlineData("OPTIONS * HTTP/1.1")]
    public void MethodOtherThanGet_Gets405(string requestLine)
    {
        AssertRefused(Parse(With(requestLine)), 405);
    }

    [Fact]
    public void MethodOtherThanGet_Gets405AsSoonAsTheRequestLineEnds()
    {
        AssertRefused(Parse("POST /p HTTP/1.1\r\nHost: h\r\nContent-Le"), 405);
    }

    [Theory]
    [InlineData("X-Folded: a\r\n  b\r\n")]
    [InlineData("X-Folded: a\r\n\tb\r\n")]
    [InlineData("X-Nocolon\r\n")]
    [InlineData("X-Space : v\r\n")]
    [InlineData("X-Tab\t: v\r\n")]
    [InlineData(": v\r\n")]
    [InlineData("X(Bad): v\r\n")]
    [InlineData("X-Nul: a\u0000b\r\n")]
    [InlineData("X-Nul\u0000: v\r\n")]
    [InlineData("X-Ctl: a\u0007b\r\n")]
    [InlineData("X-Del: a\u007fb\r\n")]
    [InlineData("X-Cr: a\rb\r\n")]
    [InlineData("Transfer-Encoding: chunked\r\n")]
    [InlineData("Content-Length: 5\r\n")]
    [InlineData("Host: second\r\n")]
    public void MalformedHeaderLine_Gets400(string header)
    {
        AssertRefused(Parse(With(extraHeaders: header)), 400);
    }

    [Fact]
    public void ObsFoldRightAfterRequestLine_Gets400()
    {
        AssertRefused(Parse("GET /p HTTP/1.1\r\n Host: h\r\n\r\n"), 400);
    }

    [Theory]
    [InlineData("")]
    [InlineData("host-name: h\r\n")]
    public void MissingHost_Gets400(string host)
    {
        AssertRefused(Parse(With(host: host)), 400);
    }

    [Theory]
    [InlineData("Host: a b\r\n")]
    [InlineData("Host: a,b\r\n")]
    [InlineData("Host: a/b\r\n")]
    [InlineData("Host: u@h\r\n")]
    public void InvalidHost_Gets400(string host)
    {
        AssertRefused(Parse(With(host: host)), 400);
    }

    [Theory]
    [InlineData("X-Cr: v\r\r\n")]
    [InlineData("X-Cr: v\r \n")]
    [InlineData("X-Cr: v\r\n\r")]
    public void BareCrBeforeTheLineEnd_Gets400(string header)
    {
        AssertRefused(Parse(With(extraHeaders: header)), 400);
    }

    [Fact]
    public void TlsClientHello_Gets400AtOnce()
    {
        // A TLS 1.2/1.3 ClientHello record start, as sent by a client that speaks TLS to a plain listener.
        byte[] hello = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x8a, 0x11];
        AssertRefused(Parse(hello), 400);
        AssertRefused(Parse(hello[..1]), 400);
    }

    [Theory]
    [InlineData("\u0000\u0000\u0000\u0000")]
    [InlineData("\u00ff\u00fe garbage")]
    [InlineData("SSH-2.0-OpenSSH_9.6\r\n")]
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")]
    [InlineData("{\"opt\":9}")]
    [InlineData(" ")]
    [InlineData("\r\r")]
    public void Garbage_Gets400(string bytes)
    {
        AssertRefused(Parse(bytes), 400);
    }

    [Fact]
    public void MoreThanMaxHeadBytesWithoutBlankLine_Gets431()
    {
        string partial = "GET /p HTTP/1.1\r\nHost: h\r\nX-Long: " + new string('a', UpgradeParser.MaxHeadBytes);
        AssertRefused(Parse(partial), 431);
    }

    [Fact]
    public void MaxHeadBytesWithoutBlankLine_IsStillIncomplete()
    {
        string partial = "GET /p HTTP/1.1\r\nHost: h\r\nX-Long: ";
        partial += new string('a', UpgradeParser.MaxHeadBytes - partial.Length);
        Assert.Equal(UpgradeParseStatus.Incomplete, Parse(partial).Status);
        AssertRefused(Parse(partial + "a"), 431);
    }

    [Fact]
    public void CompleteHeadLongerThanMaxHeadBytes_Gets431()
    {
        string head = With(extraHeaders: "X-Pad: " + new string('x', UpgradeParser.MaxHeadBytes) + "\r\n");
        AssertRefused(Parse(head), 431);
    }

    [Fact]
    public void HeadOneByteOverMaxHeadBytes_Gets431()
    {
        string head = With(extraHeaders: "X-Pad: \r\n");
        string padded = head.Insert(head.Length - 4, new string('x', UpgradeParser.MaxHeadBytes + 1 - head.Length));
        AssertRefused(Parse(padded), 431);
    }

    [Fact]
    public void LongRequestLineWithoutEnd_Gets431()
    {
        AssertRefused(Parse("GET /" + new string('a', UpgradeParser.MaxHeadBytes)), 431);
    }

    [Fact]
    public void MoreThanMaxHeaderCount_Gets431()
    {
        var extra = new StringBuilder();
        for (int i = 0; i < UpgradeParser.MaxHeaderCount - 4; i++) extra.Append($"X-H{i}: v\r\n");
        AssertRefused(Parse(With(extraHeaders: extra.ToString())), 431);
    }

    [Fact]
    public void MoreThanMaxHeaderCount_Gets431BeforeTheHeadEnds()
    {
        var head = new StringBuilder("GET /p HTTP/1.1\r\n");
        for (int i = 0; i <= UpgradeParser.MaxHeaderCount; i++) head.Append("X: v\r\n");
        AssertRefused(Parse(head.ToString()), 431);
    }

    [Fact]
    public void IncompleteAndRefusedHeads_AllocateNothing()
    {
        var incomplete = new ReadOnlySequence<byte>(Bytes(GoClient[..^2]));
        var refused = new ReadOnlySequence<byte>(Bytes(With("POST /p HTTP/1.1")));
        var split = Split(Bytes(GoClient[..^2]), 50, 120);
        UpgradeParser.Parse(incomplete);
        UpgradeParser.Parse(refused);
        UpgradeParser.Parse(split);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var a = UpgradeParser.Parse(incomplete);
        var b = UpgradeParser.Parse(refused);
        var c = UpgradeParser.Parse(split);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(UpgradeParseStatus.Incomplete, a.Status);
        Assert.Equal(UpgradeParseStatus.Invalid, b.Status);
        Assert.Equal(UpgradeParseStatus.Incomplete, c.Status);
        Assert.Equal(0, allocated);
    }
}
