using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Mtt.Core.Upgrade;

/// <summary>
/// The server's side of the opening handshake (RFC 6455 4.2.2): the 101 that accepts it, or a complete
/// plain-text refusal after which the connection is closed. No Server header: nothing names the product.
/// </summary>
public static class HandshakeResponse
{
    // RFC 6455 1.3: appended to the client's key before hashing.
    private static ReadOnlySpan<byte> KeyGuid => "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"u8;

    private static ReadOnlySpan<byte> AcceptHead =>
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "u8;

    private static ReadOnlySpan<byte> SmuxOnLine => "Sec-WebSocket-Protocol: smux_on\r\n"u8;
    private static ReadOnlySpan<byte> SmuxOffLine => "Sec-WebSocket-Protocol: smux_off\r\n"u8;

    /// <summary>What a 429 asks the client to wait before it tries again, in seconds.</summary>
    public const int RetryAfterSeconds = 5;

    /// <summary>base64 of a 20-byte SHA-1.</summary>
    private const int AcceptKeyLength = 28;

    /// <summary>Keys up to this many UTF-8 bytes (a valid one is 24) are hashed from a stack buffer.</summary>
    private const int StackKeyBytes = 256;

    private static readonly byte[] Refusal400 = BuildRefusal(400, "Bad Request", null);
    private static readonly byte[] Refusal404 = BuildRefusal(404, "Not Found", null);
    // A user's quota spent or its time expired (docs/protocol.md §5.7): nothing the client can change by retrying.
    private static readonly byte[] Refusal403 = BuildRefusal(403, "Forbidden", null);
    private static readonly byte[] Refusal405 = BuildRefusal(405, "Method Not Allowed", "Allow: GET\r\n");
    // RFC 6455 4.2.2 and RFC 9110 15.5.22: say which version and protocol to use. A sender of Upgrade
    // must also list "upgrade" in Connection (RFC 9110 7.8), hence "Upgrade, close" for this one.
    private static readonly byte[] Refusal426 = BuildRefusal(426, "Upgrade Required", "Sec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n", "Upgrade, close");
    // A user's max_conns or max_ips: a tunnel may close any moment, so a short wait is worth it (RFC 6585 section 4).
    private static readonly byte[] Refusal429 = BuildRefusal(429, "Too Many Requests", $"Retry-After: {RetryAfterSeconds}\r\n");
    private static readonly byte[] Refusal431 = BuildRefusal(431, "Request Header Fields Too Large", null);
    private static readonly byte[] Refusal500 = BuildRefusal(500, "Internal Server Error", null);
    private static readonly byte[] Refusal503 = BuildRefusal(503, "Service Unavailable", null);

    /// <summary>Writes the 101 response; <paramref name="chosen"/> is echoed in Sec-WebSocket-Protocol unless None.</summary>
    public static void WriteAccept(IBufferWriter<byte> output, string webSocketKey, Subprotocol chosen)
    {
        ReadOnlySpan<byte> protocolLine = chosen switch
        {
            Subprotocol.SmuxOn => SmuxOnLine,
            Subprotocol.SmuxOff => SmuxOffLine,
            _ => default,
        };
        int length = AcceptHead.Length + AcceptKeyLength + 2 + protocolLine.Length + 2;
        var span = output.GetSpan(length);
        AcceptHead.CopyTo(span);
        int pos = AcceptHead.Length;
        WriteAcceptKey(webSocketKey, span.Slice(pos, AcceptKeyLength));
        pos += AcceptKeyLength;
        "\r\n"u8.CopyTo(span[pos..]);
        pos += 2;
        protocolLine.CopyTo(span[pos..]);
        pos += protocolLine.Length;
        "\r\n"u8.CopyTo(span[pos..]);
        output.Advance(length);
    }

    /// <summary>
    /// Writes a complete refusal: status line, Content-Type, Content-Length, Connection: close, the
    /// extra headers the status calls for, and the reason phrase as the body. Statuses: 400, 403, 404, 405,
    /// 426, 429, 431, 500, 503.
    /// </summary>
    public static void WriteRefusal(IBufferWriter<byte> output, int status) => output.Write(RefusalBytes(status));

    /// <summary>Sec-WebSocket-Accept for <paramref name="webSocketKey"/>: base64(SHA-1(key + GUID)).</summary>
    public static string ComputeAcceptKey(string webSocketKey)
    {
        Span<byte> accept = stackalloc byte[AcceptKeyLength];
        WriteAcceptKey(webSocketKey, accept);
        return Encoding.ASCII.GetString(accept);
    }

    private static ReadOnlySpan<byte> RefusalBytes(int status) => status switch
    {
        400 => Refusal400,
        403 => Refusal403,
        404 => Refusal404,
        405 => Refusal405,
        426 => Refusal426,
        429 => Refusal429,
        431 => Refusal431,
        500 => Refusal500,
        503 => Refusal503,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "no refusal defined for this status"),
    };

    private static void WriteAcceptKey(string webSocketKey, Span<byte> destination)
    {
        int maxBytes = Encoding.UTF8.GetMaxByteCount(webSocketKey.Length) + KeyGuid.Length;
        byte[]? rented = null;
        Span<byte> input = maxBytes <= StackKeyBytes ? stackalloc byte[StackKeyBytes] : (rented = ArrayPool<byte>.Shared.Rent(maxBytes));
        try
        {
            int keyBytes = Encoding.UTF8.GetBytes(webSocketKey, input);
            KeyGuid.CopyTo(input[keyBytes..]);
            Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
            SHA1.HashData(input[..(keyBytes + KeyGuid.Length)], hash);
            Base64.EncodeToUtf8(hash, destination, out _, out _);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static byte[] BuildRefusal(int status, string reasonPhrase, string? extraHeaders, string connection = "close") =>
        Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {status} {reasonPhrase}\r\n" +
            "Content-Type: text/plain\r\n" +
            $"Content-Length: {reasonPhrase.Length}\r\n" +
            $"Connection: {connection}\r\n" +
            extraHeaders +
            "\r\n" +
            reasonPhrase);
}
