using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Mtt.Tests.Support;

/// <summary>
/// A byte-level WebSocket client that behaves as mtt-client does (docs/protocol.md §2-3): the Go client's
/// request head, masked binary frames, one subprotocol; and can break the rules on purpose.
/// </summary>
public sealed class RawWebSocketClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[256 * 1024];
    private int _start;
    private int _end;

    private RawWebSocketClient(TcpClient tcp, Stream stream)
    {
        _tcp = tcp;
        _stream = stream;
    }

    public Stream Stream => _stream;

    /// <param name="preamble">Bytes sent first, before TLS: a PROXY protocol header as an L4 proxy writes it.</param>
    /// <param name="from">The client's own address (any of 127.0.0.0/8 on Linux), to stand for another client machine.</param>
    public static async Task<RawWebSocketClient> ConnectAsync(int port, X509Certificate2? pinnedCertificate = null, byte[]? preamble = null, System.Net.IPAddress? from = null)
    {
        var tcp = from is null ? new TcpClient() : new TcpClient(new System.Net.IPEndPoint(from, 0));
        tcp.NoDelay = true;
        await tcp.ConnectAsync("127.0.0.1", port);
        Stream stream = tcp.GetStream();
        if (preamble is not null) await stream.WriteAsync(preamble);
        if (pinnedCertificate is not null)
        {
            var ssl = new SslStream(stream, false, (_, certificate, _, _) => certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(pinnedCertificate.RawData));
            await ssl.AuthenticateAsClientAsync("localhost");
            stream = ssl;
        }
        return new RawWebSocketClient(tcp, stream);
    }

    /// <summary>The head the Go client sends: Host without a port, no Origin.</summary>
    public static string GoClientHead(string path, string? subprotocol = "smux_off", string key = "dGhlIHNhbXBsZSBub25jZQ==") =>
        $"GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: Go-http-client/1.1\r\nConnection: Upgrade\r\n" +
        $"Sec-WebSocket-Key: {key}\r\n" + (subprotocol is null ? "" : $"Sec-WebSocket-Protocol: {subprotocol}\r\n") +
        "Sec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n\r\n";

    public Task SendRawAsync(string text) => SendRawAsync(Encoding.ASCII.GetBytes(text));

    public async Task SendRawAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>Sends the Go client's head and reads the response head; returns the status code and the head's text.</summary>
    public async Task<(int Status, string Head)> UpgradeAsync(string path, string? subprotocol = "smux_off")
    {
        await SendRawAsync(GoClientHead(path, subprotocol));
        return await ReadResponseHeadAsync();
    }

    public async Task<(int Status, string Head)> ReadResponseHeadAsync()
    {
        while (true)
        {
            int end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                string head = Encoding.ASCII.GetString(_buffer, _start, end + 4);
                _start += end + 4;
                return (int.Parse(head.AsSpan(9, 3)), head);
            }
            if (!await FillAsync()) throw new EndOfStreamException("connection closed before a response head");
        }
    }

    /// <summary>Reads the response body after a refusal, by its Content-Length.</summary>
    public async Task<string> ReadBodyAsync(string head)
    {
        var line = head.Split("\r\n").First(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        int length = int.Parse(line.AsSpan(15).Trim());
        while (_end - _start < length)
        {
            if (!await FillAsync()) throw new EndOfStreamException();
        }
        var body = Encoding.UTF8.GetString(_buffer, _start, length);
        _start += length;
        return body;
    }

    public Task SendBinaryAsync(ReadOnlyMemory<byte> payload) => SendFrameAsync(0x2, payload);

    /// <summary>Writes one client frame; masked unless told otherwise.</summary>
    public async Task SendFrameAsync(byte opcode, ReadOnlyMemory<byte> payload, bool fin = true, bool mask = true, byte rsv = 0)
    {
        await _stream.WriteAsync(BuildFrame(opcode, payload.Span, fin, mask, rsv));
        await _stream.FlushAsync();
    }

    public static byte[] BuildFrame(byte opcode, ReadOnlySpan<byte> payload, bool fin = true, bool mask = true, byte rsv = 0)
    {
        var frame = new List<byte>(payload.Length + 14)
        {
            (byte)((fin ? 0x80 : 0) | (rsv << 4) | opcode),
        };
        byte maskBit = mask ? (byte)0x80 : (byte)0;
        if (payload.Length < 126) frame.Add((byte)(maskBit | payload.Length));
        else if (payload.Length <= ushort.MaxValue)
        {
            frame.Add((byte)(maskBit | 126));
            frame.Add((byte)(payload.Length >> 8));
            frame.Add((byte)payload.Length);
        }
        else
        {
            frame.Add((byte)(maskBit | 127));
            for (int shift = 56; shift >= 0; shift -= 8) frame.Add((byte)((long)payload.Length >> shift));
        }
        var key = new byte[4];
        if (mask)
        {
            RandomNumberGenerator.Fill(key);
            frame.AddRange(key);
        }
        for (int i = 0; i < payload.Length; i++) frame.Add((byte)(payload[i] ^ (mask ? key[i & 3] : 0)));
        return [.. frame];
    }

    public Task SendCloseAsync(ushort code)
    {
        var payload = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(payload, code);
        return SendFrameAsync(0x8, payload);
    }

    /// <summary>Reads one server frame; null when the connection ended. Server frames must be unmasked.</summary>
    public async Task<(bool Fin, byte Opcode, byte[] Payload)?> ReadFrameAsync()
    {
        if (!await EnsureAsync(2)) return null;
        byte b0 = _buffer[_start], b1 = _buffer[_start + 1];
        if ((b1 & 0x80) != 0) throw new InvalidDataException("server frame is masked");
        long length = b1 & 0x7F;
        int headerLength = 2;
        if (length == 126)
        {
            if (!await EnsureAsync(4)) return null;
            length = BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(_start + 2));
            headerLength = 4;
        }
        else if (length == 127)
        {
            if (!await EnsureAsync(10)) return null;
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(_buffer.AsSpan(_start + 2));
            headerLength = 10;
        }
        if (length > _buffer.Length - 16) throw new InvalidDataException($"server frame too large for the test client: {length}");
        if (!await EnsureAsync(headerLength + (int)length)) return null;
        var payload = _buffer.AsSpan(_start + headerLength, (int)length).ToArray();
        _start += headerLength + (int)length;
        return ((b0 & 0x80) != 0, (byte)(b0 & 0x0F), payload);
    }

    /// <summary>Reads frames until a close frame arrives; returns its code (1005 when it had none), or null when the connection ended without one.</summary>
    public async Task<ushort?> ReadUntilCloseAsync(Stream? dataSink = null)
    {
        while (await ReadFrameAsync() is { } frame)
        {
            if (frame.Opcode == 0x8) return frame.Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(frame.Payload) : (ushort)1005;
            if (dataSink is not null) await dataSink.WriteAsync(frame.Payload);
        }
        return null;
    }

    /// <summary>On an upgraded tunnel to an echo backend: sends <paramref name="text"/>, asserts it comes back byte-exact as binary frames, then closes with 1000 and asserts the server answers 1000.</summary>
    public async Task AssertEchoesThenClosesAsync(string text, TimeSpan bound)
    {
        byte[] payload = Encoding.ASCII.GetBytes(text);
        await SendBinaryAsync(payload).WaitAsync(bound);
        var echoed = new MemoryStream();
        while (echoed.Length < payload.Length)
        {
            var frame = await ReadFrameAsync().WaitAsync(bound);
            Assert.True(frame is { Opcode: 0x2 }, "expected the echo as binary frames");
            echoed.Write(frame!.Value.Payload);
        }
        Assert.Equal(payload, echoed.ToArray());
        await SendCloseAsync(1000).WaitAsync(bound);
        Assert.Equal((ushort)1000, await ReadUntilCloseAsync().WaitAsync(bound));
    }

    /// <summary>True when the server has closed the connection (a read returns end of stream, or a reset).</summary>
    public async Task<bool> IsClosedByServerAsync()
    {
        try
        {
            while (true)
            {
                _start = _end = 0;
                int n = await _stream.ReadAsync(_buffer);
                if (n == 0) return true;
            }
        }
        catch (IOException)
        {
            return true;
        }
    }

    private async Task<bool> EnsureAsync(int count)
    {
        while (_end - _start < count)
        {
            if (!await FillAsync()) return false;
        }
        return true;
    }

    private async Task<bool> FillAsync()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        int n;
        try
        {
            n = await _stream.ReadAsync(_buffer.AsMemory(_end));
        }
        catch (IOException)
        {
            return false;
        }
        _end += n;
        return n > 0;
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}
