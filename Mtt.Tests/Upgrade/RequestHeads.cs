using System.Buffers;
using System.Text;
using Mtt.Core.Upgrade;
using Mtt.Tests.Support;

namespace Mtt.Tests.Upgrade;

/// <summary>Request heads as the clients send them, and ways to lay bytes out over several segments.</summary>
internal static class RequestHeads
{
    public const string RfcExampleKey = "dGhlIHNhbXBsZSBub25jZQ==";

    /// <summary>
    /// What mtt-client (gorilla/websocket over Go's net/http) writes: Host without port, Go's
    /// User-Agent, the rest sorted by name, no Origin.
    /// </summary>
    public const string GoClient =
        "GET /path_1 HTTP/1.1\r\n" +
        "Host: example.com\r\n" +
        "User-Agent: Go-http-client/1.1\r\n" +
        "Connection: Upgrade\r\n" +
        "Sec-WebSocket-Key: " + RfcExampleKey + "\r\n" +
        "Sec-WebSocket-Protocol: smux_off\r\n" +
        "Sec-WebSocket-Version: 13\r\n" +
        "Upgrade: websocket\r\n" +
        "\r\n";

    /// <summary>A minimal valid head with <paramref name="extraHeaders"/> (each ending in CRLF) before the blank line.</summary>
    public static string With(string requestLine = "GET /p HTTP/1.1", string extraHeaders = "", string host = "Host: h\r\n") =>
        requestLine + "\r\n" + host +
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + RfcExampleKey + "\r\nSec-WebSocket-Version: 13\r\n" +
        extraHeaders + "\r\n";

    /// <summary>One byte per char: lets tests write any byte (0x00-0xFF) as \u00XX.</summary>
    public static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    public static UpgradeParseResult Parse(string head) => Parse(Bytes(head));

    public static UpgradeParseResult Parse(byte[] head)
    {
        var sequence = new ReadOnlySequence<byte>(head);
        return UpgradeParser.Parse(sequence);
    }

    /// <summary>A sequence of one segment per part, in order (empty parts make empty segments).</summary>
    public static ReadOnlySequence<byte> Segments(params byte[][] parts) => SegmentedSequence.Of(parts);

    /// <summary><paramref name="data"/> cut at the given ascending offsets.</summary>
    public static ReadOnlySequence<byte> Split(byte[] data, params int[] cuts) => SegmentedSequence.SplitAt(data, cuts);
}
