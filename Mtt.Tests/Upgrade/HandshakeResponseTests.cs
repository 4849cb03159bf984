using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Mtt.Core.Upgrade;
using static Mtt.Tests.Upgrade.RequestHeads;

namespace Mtt.Tests.Upgrade;

public class HandshakeResponseTests
{
    private static string Written(Action<IBufferWriter<byte>> write)
    {
        var output = new ArrayBufferWriter<byte>();
        write(output);
        return Encoding.ASCII.GetString(output.WrittenSpan);
    }

    [Fact]
    public void AcceptKey_OfRfc6455ExampleKey_IsTheRfcsAnswer()
    {
        // RFC 6455 section 1.3 (also: openssl sha1 -binary | base64).
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", HandshakeResponse.ComputeAcceptKey(RfcExampleKey));
    }

    [Theory]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA==")]
    [InlineData("x")]
    [InlineData("")]
    public void AcceptKey_IsBase64OfSha1OfKeyAndGuid(string key)
    {
        string expected = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        Assert.Equal(expected, HandshakeResponse.ComputeAcceptKey(key));
    }

    [Fact]
    public void AcceptKey_OfLongKey_UsesPooledBuffer()
    {
        string key = new('k', 1000);
        string expected = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        Assert.Equal(expected, HandshakeResponse.ComputeAcceptKey(key));
    }

    [Fact]
    public void Accept_WithoutSubprotocol_IsExact()
    {
        Assert.Equal(
            "HTTP/1.1 101 Switching Protocols\r\n" +
            "Upgrade: websocket\r\n" +
            "Connection: Upgrade\r\n" +
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
            "\r\n",
            Written(o => HandshakeResponse.WriteAccept(o, RfcExampleKey, Subprotocol.None)));
    }

    [Theory]
    [InlineData(Subprotocol.SmuxOn, "smux_on")]
    [InlineData(Subprotocol.SmuxOff, "smux_off")]
    public void Accept_WithSubprotocol_EchoesIt(Subprotocol chosen, string token)
    {
        Assert.Equal(
            "HTTP/1.1 101 Switching Protocols\r\n" +
            "Upgrade: websocket\r\n" +
            "Connection: Upgrade\r\n" +
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
            "Sec-WebSocket-Protocol: " + token + "\r\n" +
            "\r\n",
            Written(o => HandshakeResponse.WriteAccept(o, RfcExampleKey, chosen)));
    }

    [Fact]
    public void Accept_AppendsAfterWhatIsAlreadyWritten()
    {
        var output = new ArrayBufferWriter<byte>();
        output.Write("x"u8);
        HandshakeResponse.WriteAccept(output, RfcExampleKey, Subprotocol.None);
        Assert.StartsWith("xHTTP/1.1 101 ", Encoding.ASCII.GetString(output.WrittenSpan));
    }

    [Fact]
    public void Accept_AllocatesNothing()
    {
        var output = new ArrayBufferWriter<byte>(1024);
        HandshakeResponse.WriteAccept(output, RfcExampleKey, Subprotocol.SmuxOn);
        output.ResetWrittenCount();

        long before = GC.GetAllocatedBytesForCurrentThread();
        HandshakeResponse.WriteAccept(output, RfcExampleKey, Subprotocol.SmuxOn);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData(400, "Bad Request")]
    [InlineData(404, "Not Found")]
    [InlineData(431, "Request Header Fields Too Large")]
    [InlineData(500, "Internal Server Error")]
    [InlineData(503, "Service Unavailable")]
    public void Refusal_IsACompletePlainTextResponse(int status, string phrase)
    {
        Assert.Equal(
            $"HTTP/1.1 {status} {phrase}\r\n" +
            "Content-Type: text/plain\r\n" +
            $"Content-Length: {phrase.Length}\r\n" +
            "Connection: close\r\n" +
            "\r\n" +
            phrase,
            Written(o => HandshakeResponse.WriteRefusal(o, status)));
    }

    [Fact]
    public void Refusal405_AllowsGet()
    {
        Assert.Equal(
            "HTTP/1.1 405 Method Not Allowed\r\n" +
            "Content-Type: text/plain\r\n" +
            "Content-Length: 18\r\n" +
            "Connection: close\r\n" +
            "Allow: GET\r\n" +
            "\r\n" +
            "Method Not Allowed",
            Written(o => HandshakeResponse.WriteRefusal(o, 405)));
    }

    [Fact]
    public void Refusal426_NamesVersion13AndWebSocket()
    {
        Assert.Equal(
            "HTTP/1.1 426 Upgrade Required\r\n" +
            "Content-Type: text/plain\r\n" +
            "Content-Length: 16\r\n" +
            "Connection: Upgrade, close\r\n" +
            "Sec-WebSocket-Version: 13\r\n" +
            "Upgrade: websocket\r\n" +
            "\r\n" +
            "Upgrade Required",
            Written(o => HandshakeResponse.WriteRefusal(o, 426)));
    }

    [Theory]
    [InlineData(400)]
    [InlineData(404)]
    [InlineData(405)]
    [InlineData(426)]
    [InlineData(431)]
    [InlineData(500)]
    [InlineData(503)]
    public void Refusal_NamesNoServer_AndContentLengthMatchesBody(int status)
    {
        string response = Written(o => HandshakeResponse.WriteRefusal(o, status));
        Assert.DoesNotContain("Server:", response, StringComparison.OrdinalIgnoreCase);
        int bodyStart = response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        Assert.Contains($"\r\nContent-Length: {response.Length - bodyStart}\r\n", response);
    }

    [Fact]
    public void Refusal_OfUnknownStatus_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => HandshakeResponse.WriteRefusal(new ArrayBufferWriter<byte>(), 418));
    }
}
