using System.Buffers;
using System.Text;
using Mtt.Core.Upgrade;
using static Mtt.Tests.Upgrade.RequestHeads;

namespace Mtt.Tests.Upgrade;

public class UpgradeParserTests
{
    private static UpgradeRequest ParseComplete(string head)
    {
        var result = Parse(head);
        Assert.Equal(UpgradeParseStatus.Complete, result.Status);
        Assert.Equal(0, result.RefusalStatus);
        Assert.Null(result.RefusalReason);
        return Assert.IsType<UpgradeRequest>(result.Request);
    }

    [Fact]
    public void GoClientRequest_ParsesEveryField()
    {
        var request = ParseComplete(GoClient);

        Assert.Equal("GET", request.Method);
        Assert.Equal("/path_1", request.Path);
        Assert.Equal("example.com", request.Host);
        Assert.Equal(RfcExampleKey, request.WebSocketKey);
        Assert.Equal("13", request.WebSocketVersion);
        Assert.True(request.HasUpgradeWebSocket);
        Assert.True(request.HasConnectionUpgrade);
        Assert.Equal(Subprotocol.SmuxOff, request.OfferedSubprotocol);
        Assert.Null(request.XForwardedFor);
        Assert.Null(request.XRealIp);
        Assert.False(request.HasDuplicateWebSocketHeaders);
    }

    [Fact]
    public void CompleteHead_EndsRightAfterBlankLine_LeavingFrameBytesUnconsumed()
    {
        byte[] head = Bytes(GoClient);
        byte[] frame = [0x82, 0x83, 1, 2, 3, 4, 5, 6, 7];
        var buffer = new ReadOnlySequence<byte>([.. head, .. frame]);

        var result = UpgradeParser.Parse(buffer);

        Assert.Equal(UpgradeParseStatus.Complete, result.Status);
        Assert.Equal(head.Length, buffer.Slice(0, result.End).Length);
        Assert.Equal(frame, buffer.Slice(result.End).ToArray());
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n", "\n")]
    [InlineData("\n", "\r\n")]
    public void BareLfLineEnds_AreAccepted_AndTheHeadEndsRightAfterTheBlankLine(string lineEnd, string blankLine = "")
    {
        // RFC 9112 2.2 lets a recipient end a line at LF alone; Go's net/http (textproto) does, mixed with CRLF too.
        string head = GoClient.Replace("\r\n", lineEnd, StringComparison.Ordinal);
        if (blankLine.Length > 0) head = head[..^lineEnd.Length] + blankLine;
        byte[] frame = [0x82, 0x80, 1, 2, 3, 4];
        var buffer = new ReadOnlySequence<byte>([.. Bytes(lineEnd + head), .. frame]);

        var result = UpgradeParser.Parse(buffer);

        Assert.Equal(UpgradeParseStatus.Complete, result.Status);
        Assert.Equal(frame, buffer.Slice(result.End).ToArray());
        var request = Assert.IsType<UpgradeRequest>(result.Request);
        Assert.Equal("/path_1", request.Path);
        Assert.Equal("example.com", request.Host);
        Assert.Equal(RfcExampleKey, request.WebSocketKey);
        Assert.Equal("13", request.WebSocketVersion);
        Assert.True(request.HasUpgradeWebSocket && request.HasConnectionUpgrade);
        Assert.Equal(Subprotocol.SmuxOff, request.OfferedSubprotocol);
    }

    [Fact]
    public void RepeatedForwardedForWithBareLfLineEnds_IsJoined()
    {
        var request = ParseComplete(With(extraHeaders: "X-Forwarded-For: 1.1.1.1\nX-Forwarded-For: 2.2.2.2\n").Replace("\r\n", "\n", StringComparison.Ordinal));
        Assert.Equal("1.1.1.1, 2.2.2.2", request.XForwardedFor);
    }

    [Fact]
    public void ConnectionTokenList_KeepAliveUpgrade_HasConnectionUpgrade()
    {
        var request = ParseComplete("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n\r\n");
        Assert.True(request.HasConnectionUpgrade);
    }

    [Theory]
    [InlineData("Connection: upgrade\r\n", true)]
    [InlineData("Connection: UPGRADE\r\n", true)]
    [InlineData("Connection:keep-alive,upgrade\r\n", true)]
    [InlineData("Connection: ,, \t upgrade \t,\r\n", true)]
    [InlineData("Connection: keep-alive\r\nConnection: Upgrade\r\n", true)]
    [InlineData("Connection: keep-alive\r\n", false)]
    [InlineData("Connection: upgraded\r\n", false)]
    [InlineData("Connection: up grade\r\n", false)]
    [InlineData("", false)]
    public void ConnectionTokenList_MatchesUpgradeTokenCaseInsensitively(string header, bool expected)
    {
        var request = ParseComplete("GET / HTTP/1.1\r\nHost: h\r\n" + header + "\r\n");
        Assert.Equal(expected, request.HasConnectionUpgrade);
    }

    [Theory]
    [InlineData("Upgrade: websocket\r\n", true)]
    [InlineData("Upgrade: WebSocket\r\n", true)]
    [InlineData("Upgrade: h2c, websocket\r\n", true)]
    [InlineData("Upgrade: h2c\r\nUpgrade: websocket\r\n", true)]
    [InlineData("Upgrade: websocket/13\r\n", false)]
    [InlineData("Upgrade: h2c\r\n", false)]
    [InlineData("", false)]
    public void UpgradeTokenList_MatchesWebSocketTokenCaseInsensitively(string header, bool expected)
    {
        var request = ParseComplete("GET / HTTP/1.1\r\nHost: h\r\n" + header + "\r\n");
        Assert.Equal(expected, request.HasUpgradeWebSocket);
    }

    [Theory]
    [InlineData("Sec-WebSocket-Protocol: smux_on\r\n", Subprotocol.SmuxOn)]
    [InlineData("Sec-WebSocket-Protocol: smux_off\r\n", Subprotocol.SmuxOff)]
    [InlineData("Sec-WebSocket-Protocol: chat, smux_off, smux_on\r\n", Subprotocol.SmuxOff)]
    [InlineData("Sec-WebSocket-Protocol: smux_on,smux_off\r\n", Subprotocol.SmuxOn)]
    [InlineData("Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: smux_on\r\n", Subprotocol.SmuxOn)]
    [InlineData("Sec-WebSocket-Protocol: smux_off\r\nSec-WebSocket-Protocol: smux_on\r\n", Subprotocol.SmuxOff)]
    [InlineData("sec-websocket-protocol: smux_on\r\n", Subprotocol.SmuxOn)]
    [InlineData("Sec-WebSocket-Protocol: SMUX_ON\r\n", Subprotocol.None)]
    [InlineData("Sec-WebSocket-Protocol: smux_onx\r\n", Subprotocol.None)]
    [InlineData("Sec-WebSocket-Protocol: chat\r\n", Subprotocol.None)]
    [InlineData("", Subprotocol.None)]
    public void Subprotocol_FirstSmuxTokenInClientOrder_CaseSensitive(string header, Subprotocol expected)
    {
        var request = ParseComplete(With(extraHeaders: header));
        Assert.Equal(expected, request.OfferedSubprotocol);
    }

    [Theory]
    [InlineData("GET /path_1?token=abc HTTP/1.1", "/path_1")]
    [InlineData("GET /path_1? HTTP/1.1", "/path_1")]
    [InlineData("GET /?a=/b HTTP/1.1", "/")]
    [InlineData("GET /A/b%20c HTTP/1.1", "/A/b%20c")]
    [InlineData("GET //double HTTP/1.1", "//double")]
    [InlineData("GET /p/../q HTTP/1.1", "/p/../q")]
    public void OriginForm_PathIsExactlyAsSent_QueryDropped(string requestLine, string expectedPath)
    {
        Assert.Equal(expectedPath, ParseComplete(With(requestLine)).Path);
    }

    [Theory]
    [InlineData("GET http://example.com/path_1 HTTP/1.1", "/path_1", "example.com")]
    [InlineData("GET https://example.com:443/path_1?x=1 HTTP/1.1", "/path_1", "example.com:443")]
    [InlineData("GET HTTP://Example.com/P HTTP/1.1", "/P", "Example.com")]
    [InlineData("GET http://example.com HTTP/1.1", "/", "example.com")]
    [InlineData("GET http://example.com?x HTTP/1.1", "/", "example.com")]
    public void AbsoluteForm_TakesPathAndAuthority(string requestLine, string expectedPath, string expectedHost)
    {
        var request = ParseComplete(With(requestLine, host: "Host: ignored\r\n"));
        Assert.Equal(expectedPath, request.Path);
        Assert.Equal(expectedHost, request.Host); // RFC 9112 3.2.2
    }

    [Fact]
    public void Utf8Path_IsDecoded()
    {
        byte[] head = Encoding.UTF8.GetBytes(With("GET /пользователь/ü HTTP/1.1"));
        var result = Parse(head);
        Assert.Equal("/пользователь/ü", result.Request!.Path);
    }

    [Fact]
    public void PathLongerThanRouteLimit_IsNotAnErrorHere()
    {
        string path = "/" + new string('a', 2000);
        Assert.Equal(path, ParseComplete(With($"GET {path} HTTP/1.1")).Path);
    }

    [Fact]
    public void HeaderNamesAndOws_AreHandledAsRfc9112Says()
    {
        var request = ParseComplete(
            "GET / HTTP/1.1\r\nhOsT:\t h:8080 \t\r\nUPGRADE:websocket\r\nconnection:   Upgrade\r\n" +
            "SEC-WEBSOCKET-KEY:  " + RfcExampleKey + "  \r\nsec-websocket-version:13\r\n\r\n");
        Assert.Equal("h:8080", request.Host);
        Assert.Equal(RfcExampleKey, request.WebSocketKey);
        Assert.Equal("13", request.WebSocketVersion);
        Assert.True(request.HasUpgradeWebSocket);
        Assert.True(request.HasConnectionUpgrade);
    }

    [Fact]
    public void UnknownHeaders_AreSkipped()
    {
        var request = ParseComplete(With(extraHeaders:
            "Origin: http://x\r\nX-Custom: \u00e9t\u00e9 obs-text\r\nEmpty:\r\nCookie: a=b; c=d\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"));
        Assert.Equal("/p", request.Path);
        Assert.Equal("h", request.Host);
    }

    [Fact]
    public void RepeatedKeyOrVersion_IsFlaggedAndFirstKept()
    {
        var key = ParseComplete(With(extraHeaders: "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n"));
        Assert.True(key.HasDuplicateWebSocketHeaders);
        Assert.Equal(RfcExampleKey, key.WebSocketKey);

        var version = ParseComplete(With(extraHeaders: "Sec-WebSocket-Version: 8\r\n"));
        Assert.True(version.HasDuplicateWebSocketHeaders);
        Assert.Equal("13", version.WebSocketVersion);
    }

    [Fact]
    public void MissingWebSocketHeaders_AreNull()
    {
        var request = ParseComplete("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.Null(request.WebSocketKey);
        Assert.Null(request.WebSocketVersion);
        Assert.False(request.HasUpgradeWebSocket);
        Assert.False(request.HasConnectionUpgrade);
        Assert.Equal(Subprotocol.None, request.OfferedSubprotocol);
    }

    [Fact]
    public void ForwardingHeaders_AreKeptRaw_RepeatedXForwardedForJoined()
    {
        var request = ParseComplete(With(extraHeaders:
            "X-Forwarded-For: 203.0.113.7, 10.0.0.1\r\nX-Real-IP: 203.0.113.7\r\nx-forwarded-for: 10.0.0.2\r\nX-Real-Ip: 1.1.1.1\r\n"));
        Assert.Equal("203.0.113.7, 10.0.0.1, 10.0.0.2", request.XForwardedFor);
        Assert.Equal("203.0.113.7", request.XRealIp);
    }

    [Fact]
    public void EmptyHost_IsAllowed()
    {
        Assert.Equal("", ParseComplete(With(host: "Host:\r\n")).Host);
    }

    [Fact]
    public void LeadingEmptyLines_AreIgnored()
    {
        // RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request line.
        Assert.Equal("/p", ParseComplete("\r\n\r\n" + With()).Path);
    }

    [Fact]
    public void ContentLengthZero_IsAccepted()
    {
        Assert.Equal("/p", ParseComplete(With(extraHeaders: "Content-Length: 0\r\n")).Path);
    }

    [Fact]
    public void ExactlyMaxHeaderCount_IsAccepted()
    {
        var extra = new StringBuilder();
        for (int i = 0; i < UpgradeParser.MaxHeaderCount - 5; i++) extra.Append($"X-H{i}: v\r\n");
        Assert.Equal("/p", ParseComplete(With(extraHeaders: extra.ToString())).Path);
    }

    [Fact]
    public void HeadOfExactlyMaxHeadBytes_IsAccepted()
    {
        string head = With(extraHeaders: "X-Pad: \r\n");
        string padded = head.Insert(head.Length - 4, new string('x', UpgradeParser.MaxHeadBytes - head.Length));
        Assert.Equal(UpgradeParser.MaxHeadBytes, padded.Length);
        Assert.Equal(UpgradeParseStatus.Complete, Parse(padded).Status);
    }
}
