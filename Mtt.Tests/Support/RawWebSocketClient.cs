using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Mtt.Core.WebSockets;

namespace Mtt.Tests.Support;

/// <summary>
/// A byte-level WebSocket client that behaves as mtt-client does (docs/protocol.md §2-3): the Go client's request
/// head, masked binary frames (RFC 6455 §5.3), one subprotocol; the tests use it to break the rules on purpose too. The load
/// harness compiles this same file: its message path (<see cref="SendBinaryAsync(ReadOnlyMemory{byte}, ReadOnlyMemory{byte}, CancellationToken)"/>,
/// <see cref="ReceiveAsync"/>) allocates nothing, so the harness measures the server and not its client.
/// One reader and one writer at a time.
/// </summary>
public sealed class RawWebSocketClient : IAsyncDisposable
{
    /// <summary>The largest message payload the allocation-free send takes: a 16 KiB smux frame's data and its 8-byte header.</summary>
    public const int MaxSendPayload = 16 * 1024 + 8;

    // Tests read a server frame of up to this size whole; the harness, with thousands of connections, takes less.
    private const int TestReceiveBufferSize = 256 * 1024;

    // The harness reads echoes of small messages and smux frames of at most 64 KiB: one whole frame and what follows it.
    private const int LoadReceiveBufferSize = 128 * 1024;

    // A response head longer than this is not the server's: refused rather than buffered without end.
    private const int MaxResponseHead = 16 * 1024;

    // Masked client header: 2 bytes, a 16-bit length (MaxSendPayload needs one), the 4-byte key.
    private const int MaxClientHeader = 2 + 2 + 4;

    private const byte MaskBit = 0x80;

    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly Stream _stream;
    // Pooled for the harness, whose churn would otherwise allocate two large arrays per connection; a test's
    // client may be dropped with a read pending (a failed assertion), so its buffers are its own.
    private readonly bool _pooled;
    private readonly byte[] _send;
    private readonly byte[] _receive;
    private int _start;
    private int _end;
    private int _dataOffset;
    private int _dataRemaining;
    private bool _closeSent;
    private bool _closeReceived;
    private bool _ended;
    private int _disposed;

    private RawWebSocketClient(Socket socket, Stream stream, bool pooled)
    {
        _socket = socket;
        _stream = stream;
        _pooled = pooled;
        _send = pooled ? ArrayPool<byte>.Shared.Rent(MaxClientHeader + MaxSendPayload) : new byte[MaxClientHeader + MaxSendPayload];
        _receive = pooled ? ArrayPool<byte>.Shared.Rent(LoadReceiveBufferSize) : new byte[TestReceiveBufferSize];
    }

    public Stream Stream => _stream;

    /// <summary>The TCP socket under <see cref="Stream"/>, for bytes sent past TLS (a record cut short by hand).</summary>
    public Socket Socket => _socket;

    /// <param name="preamble">Bytes sent first, before TLS: a PROXY protocol header as an L4 proxy writes it.</param>
    /// <param name="from">The client's own address (any of 127.0.0.0/8 on Linux), to stand for another client machine.</param>
    public static Task<RawWebSocketClient> ConnectAsync(int port, X509Certificate2? pinnedCertificate = null, byte[]? preamble = null, IPAddress? from = null)
    {
        SslClientAuthenticationOptions? tls = pinnedCertificate is null ? null : new()
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(pinnedCertificate.RawData),
        };
        return ConnectAsync(port, tls, preamble, pooled: false, CancellationToken.None, from);
    }

    /// <summary>The load harness's way in: TCP, TLS when <paramref name="tls"/> is given, then the upgrade to <paramref name="subprotocol"/>, which must succeed.</summary>
    public static async Task<RawWebSocketClient> OpenTunnelAsync(int port, SslClientAuthenticationOptions? tls, string path, string subprotocol, CancellationToken cancellationToken)
    {
        var client = await ConnectAsync(port, tls, preamble: null, pooled: true, cancellationToken).ConfigureAwait(false);
        try
        {
            await client._stream.WriteAsync(Encoding.ASCII.GetBytes(GoClientHead(path, subprotocol)), cancellationToken).ConfigureAwait(false);
            var (status, head) = await client.ReadResponseHeadAsync(cancellationToken).ConfigureAwait(false);
            if (status != 101) throw new InvalidDataException($"the upgrade was refused: {head[..Math.Max(0, head.IndexOf("\r\n", StringComparison.Ordinal))]}");
            if (!head.Contains($"Sec-WebSocket-Protocol: {subprotocol}", StringComparison.Ordinal))
                throw new InvalidDataException($"the server did not choose subprotocol {subprotocol}");
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<RawWebSocketClient> ConnectAsync(int port, SslClientAuthenticationOptions? tls, byte[]? preamble, bool pooled, CancellationToken cancellationToken, IPAddress? from = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (from is not null) socket.Bind(new IPEndPoint(from, 0));
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken).ConfigureAwait(false);
            Stream stream = new NetworkStream(socket, ownsSocket: false);
            if (preamble is not null) await stream.WriteAsync(preamble, cancellationToken).ConfigureAwait(false);
            if (tls is not null)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(tls, cancellationToken).ConfigureAwait(false);
            }
            return new RawWebSocketClient(socket, stream, pooled);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
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

    public Task<(int Status, string Head)> ReadResponseHeadAsync() => ReadResponseHeadAsync(CancellationToken.None);

    private async Task<(int Status, string Head)> ReadResponseHeadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            int end = _receive.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                string head = Encoding.ASCII.GetString(_receive, _start, end + 4);
                _start += end + 4;
                return (int.Parse(head.AsSpan(9, 3)), head);
            }
            if (_end - _start >= MaxResponseHead) throw new InvalidDataException($"no end of the response head within {MaxResponseHead} bytes");
            if (!await FillAsync(cancellationToken).ConfigureAwait(false)) throw new EndOfStreamException("connection closed before a response head");
        }
    }

    /// <summary>Reads the response body after a refusal, by its Content-Length.</summary>
    public async Task<string> ReadBodyAsync(string head)
    {
        var line = head.Split("\r\n").First(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        int length = int.Parse(line.AsSpan(15).Trim());
        if (!await EnsureAsync(length, CancellationToken.None)) throw new EndOfStreamException();
        var body = Encoding.UTF8.GetString(_receive, _start, length);
        _start += length;
        return body;
    }

    public Task SendBinaryAsync(ReadOnlyMemory<byte> payload) => SendFrameAsync((byte)WebSocketOpcode.Binary, payload);

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
        byte maskBit = mask ? MaskBit : (byte)0;
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
        return SendFrameAsync((byte)WebSocketOpcode.Close, payload);
    }

    /// <summary>Reads one server frame; null when the connection ended. Server frames must be unmasked.</summary>
    public async Task<(bool Fin, byte Opcode, byte[] Payload)?> ReadFrameAsync()
    {
        var frame = await NextFrameAsync(CancellationToken.None);
        if (frame is not { } f) return null;
        return (f.Fin, f.Opcode, _receive.AsSpan(f.Offset, f.Length).ToArray());
    }

    /// <summary>Reads frames until a close frame arrives; returns its code (1005 when it had none), or null when the connection ended without one.</summary>
    public async Task<ushort?> ReadUntilCloseAsync(Stream? dataSink = null)
    {
        while (await ReadFrameAsync() is { } frame)
        {
            if (frame.Opcode == (byte)WebSocketOpcode.Close) return frame.Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(frame.Payload) : (ushort)1005;
            if (dataSink is not null) await dataSink.WriteAsync(frame.Payload);
        }
        return null;
    }

    /// <summary>True when the server has closed the connection (a read returns end of stream, or a reset).</summary>
    public async Task<bool> IsClosedByServerAsync()
    {
        while (true)
        {
            _start = _end = 0;
            if (!await FillAsync(CancellationToken.None)) return true;
        }
    }

    /// <summary>One binary message whose payload is <paramref name="prefix"/> then <paramref name="payload"/>, masked, in one write.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendBinaryAsync(ReadOnlyMemory<byte> prefix, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        int length = prefix.Length + payload.Length;
        int header = WriteHeader((byte)(0x80 | (byte)WebSocketOpcode.Binary), length);
        prefix.Span.CopyTo(_send.AsSpan(header));
        payload.Span.CopyTo(_send.AsSpan(header + prefix.Length));
        Masking.Apply(_send.AsSpan(header, length), BinaryPrimitives.ReadInt32LittleEndian(_send.AsSpan(header - 4)), 0);
        await _stream.WriteAsync(_send.AsMemory(0, header + length), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Copies payload bytes of the server's data frames into <paramref name="destination"/>; 0 once the server's
    /// close frame came (answered with ours) or the connection ended. Pings are answered, pongs dropped.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReceiveAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        while (_dataRemaining == 0)
        {
            if (_closeReceived || _ended) return 0;
            if (await NextFrameAsync(cancellationToken).ConfigureAwait(false) is { } frame)
                await ObeyAsync(frame, cancellationToken).ConfigureAwait(false);
        }
        int count = Math.Min(_dataRemaining, destination.Length);
        _receive.AsSpan(_dataOffset, count).CopyTo(destination.Span);
        _dataOffset += count;
        _dataRemaining -= count;
        return count;
    }

    /// <summary>
    /// The close handshake (RFC 6455 §7.1.2): our close 1000 unless the server's came first, then what still
    /// arrives is dropped until the server's close frame, then until the server ends the TCP connection
    /// (§7.1.1: the server closes first). Bounded in time; false when the server did not finish it.
    /// </summary>
    public async Task<bool> CloseAsync()
    {
        using var timeout = new CancellationTokenSource(CloseTimeout);
        try
        {
            if (!_closeSent) await SendCloseFrameAsync(WebSocketCloseCodes.NormalClosure, timeout.Token).ConfigureAwait(false);
            while (!_closeReceived && !_ended)
            {
                _dataRemaining = 0;
                if (await NextFrameAsync(timeout.Token).ConfigureAwait(false) is { } frame) await ObeyAsync(frame, timeout.Token).ConfigureAwait(false);
            }
            bool handshake = _closeReceived;
            while (!_ended)
            {
                _start = _end = 0;
                await FillAsync(timeout.Token).ConfigureAwait(false);
            }
            return handshake;
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or InvalidDataException)
        {
            return false;
        }
    }

    /// <summary>The code of the server's close frame once <see cref="ReceiveAsync"/> has met it (1005 when it had none); null before.</summary>
    public ushort? ReceivedCloseCode { get; private set; }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
        if (!_pooled) return;
        ArrayPool<byte>.Shared.Return(_send);
        ArrayPool<byte>.Shared.Return(_receive);
    }

    /// <summary>Parses the next whole server frame in place and steps over it; null when the connection ended first.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ServerFrame?> NextFrameAsync(CancellationToken cancellationToken)
    {
        if (!await EnsureAsync(2, cancellationToken).ConfigureAwait(false)) return null;
        byte b0 = _receive[_start], b1 = _receive[_start + 1];
        if ((b1 & MaskBit) != 0) throw new InvalidDataException("the server sent a masked frame (RFC 6455 §5.1)");
        int header = 2;
        long length = b1 & 0x7F;
        if (length == 126)
        {
            if (!await EnsureAsync(4, cancellationToken).ConfigureAwait(false)) return null;
            length = BinaryPrimitives.ReadUInt16BigEndian(_receive.AsSpan(_start + 2));
            header = 4;
        }
        else if (length == 127)
        {
            if (!await EnsureAsync(10, cancellationToken).ConfigureAwait(false)) return null;
            length = BinaryPrimitives.ReadInt64BigEndian(_receive.AsSpan(_start + 2));
            header = 10;
        }
        if (length < 0 || length > _receive.Length - header) throw new InvalidDataException($"a {length}-byte server frame is beyond what this client reads whole");
        if (!await EnsureAsync(header + (int)length, cancellationToken).ConfigureAwait(false)) return null;
        int payload = _start + header;
        _start = payload + (int)length;
        return new ServerFrame((b0 & 0x80) != 0, (byte)(b0 & 0x0F), payload, (int)length);
    }

    /// <summary>The harness's reading: a data frame's payload is left for <see cref="ReceiveAsync"/>; control frames are answered.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ObeyAsync(ServerFrame frame, CancellationToken cancellationToken)
    {
        switch ((WebSocketOpcode)frame.Opcode)
        {
            case WebSocketOpcode.Binary or WebSocketOpcode.Continuation:
                (_dataOffset, _dataRemaining) = (frame.Offset, frame.Length);
                break;
            case WebSocketOpcode.Ping:
                await SendControlAsync(WebSocketOpcode.Pong, _receive.AsSpan(frame.Offset, frame.Length), cancellationToken).ConfigureAwait(false);
                break;
            case WebSocketOpcode.Pong:
                break;
            case WebSocketOpcode.Close:
                _closeReceived = true;
                ReceivedCloseCode = frame.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(_receive.AsSpan(frame.Offset)) : (ushort)1005;
                if (_closeSent) break;
                try
                {
                    ushort code = frame.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(_receive.AsSpan(frame.Offset)) : WebSocketCloseCodes.NormalClosure;
                    await SendCloseFrameAsync(code, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or SocketException)
                {
                    // The server may drop the connection right after its close frame; the handshake is over either way.
                }
                break;
            default:
                throw new InvalidDataException($"the server sent opcode {frame.Opcode}");
        }
    }

    private ValueTask SendCloseFrameAsync(ushort code, CancellationToken cancellationToken)
    {
        _closeSent = true;
        Span<byte> body = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(body, code);
        return SendControlAsync(WebSocketOpcode.Close, body, cancellationToken);
    }

    private ValueTask SendControlAsync(WebSocketOpcode opcode, ReadOnlySpan<byte> body, CancellationToken cancellationToken)
    {
        int header = WriteHeader((byte)(0x80 | (byte)opcode), body.Length);
        body.CopyTo(_send.AsSpan(header));
        Masking.Apply(_send.AsSpan(header, body.Length), BinaryPrimitives.ReadInt32LittleEndian(_send.AsSpan(header - 4)), 0);
        return _stream.WriteAsync(_send.AsMemory(0, header + body.Length), cancellationToken);
    }

    /// <summary>Writes a masked client header with a fresh key into the send buffer; returns where the payload goes.</summary>
    private int WriteHeader(byte first, int length)
    {
        if (length > MaxSendPayload) throw new ArgumentOutOfRangeException(nameof(length), length, $"this client sends at most {MaxSendPayload} bytes per message");
        _send[0] = first;
        int header;
        if (length <= 125)
        {
            _send[1] = (byte)(MaskBit | length);
            header = 2;
        }
        else
        {
            _send[1] = MaskBit | 126;
            BinaryPrimitives.WriteUInt16BigEndian(_send.AsSpan(2), (ushort)length);
            header = 4;
        }
        // The key needs to be unpredictable only to an attacker in a browser (§10.3); a load client just needs one.
        BinaryPrimitives.WriteInt32LittleEndian(_send.AsSpan(header), Random.Shared.Next());
        return header + 4;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> EnsureAsync(int count, CancellationToken cancellationToken)
    {
        while (_end - _start < count)
        {
            if (!await FillAsync(cancellationToken).ConfigureAwait(false)) return false;
        }
        return true;
    }

    /// <summary>Reads more behind what is buffered (moved to the front first); false once the connection ended.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_receive, _start, _receive, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        int n;
        try
        {
            n = await _stream.ReadAsync(_receive.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            // A reset is as final as an end of stream.
            n = 0;
        }
        _end += n;
        if (n == 0) _ended = true;
        return n > 0;
    }

    private readonly record struct ServerFrame(bool Fin, byte Opcode, int Offset, int Length);
}
