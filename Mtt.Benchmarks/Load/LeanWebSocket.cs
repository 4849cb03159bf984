using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Mtt.Core.WebSockets;

namespace Mtt.Benchmarks.Load;

/// <summary>
/// A lean WebSocket client for many short or small-message connections, where ClientWebSocket's own
/// cost would weigh on the 2 cores the server also runs on: a Socket, an SslStream, the Go client's
/// request head as fixed bytes (the accept key is not checked), masked binary frames (RFC 6455 §5.3)
/// written from one rented buffer, and server frames parsed in place in another. One reader and one
/// writer at a time, never both at once: the harness sends, then reads the echo.
/// </summary>
internal sealed class LeanWebSocket : IAsyncDisposable
{
    /// <summary>The largest message payload sent: a 16 KiB smux frame's data and its header.</summary>
    public const int MaxSendPayload = 16 * 1024 + SmuxWire.HeaderSize;

    // Server frames here are echoes of small messages, smux frames of at most 64 KiB, close and ping: one
    // whole frame must fit (the largest smux frame and a 10-byte header), with room for what follows it.
    private const int ReceiveBufferSize = 128 * 1024;

    // A response head longer than this is not the server's 101.
    private const int MaxResponseHead = 4096;

    // Masked client header: 2 bytes, a 16-bit length (MaxSendPayload needs one), the 4-byte key.
    private const int MaxClientHeader = 2 + 2 + 4;

    private const byte FinBinary = 0x80 | (byte)WebSocketOpcode.Binary;
    private const byte MaskBit = 0x80;

    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly byte[] _send = ArrayPool<byte>.Shared.Rent(MaxClientHeader + MaxSendPayload);
    private readonly byte[] _receive = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
    private int _start;
    private int _end;
    private int _dataOffset;
    private int _dataRemaining;
    private bool _closeSent;
    private bool _closeReceived;
    private bool _ended;
    private int _disposed;

    private LeanWebSocket(Socket socket, Stream stream)
    {
        _socket = socket;
        _stream = stream;
    }

    /// <summary>TCP connect, TLS handshake when <paramref name="tls"/>, upgrade with <paramref name="subprotocol"/> (docs/protocol.md §2).</summary>
    public static async Task<LeanWebSocket> ConnectAsync(int port, bool tls, string subprotocol, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        LeanWebSocket? client = null;
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken).ConfigureAwait(false);
            Stream stream = new NetworkStream(socket, ownsSocket: false);
            if (tls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(LoadClientTls.Options, cancellationToken).ConfigureAwait(false);
            }
            client = new LeanWebSocket(socket, stream);
            await client.UpgradeAsync(subprotocol, cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            if (client is not null) await client.DisposeAsync().ConfigureAwait(false);
            else socket.Dispose();
            throw;
        }
    }

    /// <summary>One binary message whose payload is <paramref name="prefix"/> then <paramref name="payload"/>, masked, in one write.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendBinaryAsync(ReadOnlyMemory<byte> prefix, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        int length = prefix.Length + payload.Length;
        int header = WriteHeader(FinBinary, length);
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
            await ReadFrameAsync(cancellationToken).ConfigureAwait(false);
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
            if (!_closeSent) await SendCloseAsync(WebSocketCloseCodes.NormalClosure, timeout.Token).ConfigureAwait(false);
            while (!_closeReceived && !_ended)
            {
                _dataRemaining = 0;
                await ReadFrameAsync(timeout.Token).ConfigureAwait(false);
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

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
        ArrayPool<byte>.Shared.Return(_send);
        ArrayPool<byte>.Shared.Return(_receive);
    }

    private async Task UpgradeAsync(string subprotocol, CancellationToken cancellationToken)
    {
        byte[] head = subprotocol == "smux_on" ? SmuxOnHead : SmuxOffHead;
        await _stream.WriteAsync(head, cancellationToken).ConfigureAwait(false);
        int end;
        while ((end = _receive.AsSpan(0, _end).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (_end >= MaxResponseHead) throw new InvalidDataException($"no end of the response head within {MaxResponseHead} bytes");
            if (!await FillAsync(cancellationToken).ConfigureAwait(false)) throw new IOException("the server closed the connection before its response head");
        }
        var response = _receive.AsSpan(0, end);
        if (!response.StartsWith("HTTP/1.1 101 "u8))
            throw new InvalidDataException($"the upgrade was refused: {Encoding.ASCII.GetString(response[..Math.Max(0, response.IndexOf("\r\n"u8))])}");
        if (response.IndexOf(Encoding.ASCII.GetBytes("Sec-WebSocket-Protocol: " + subprotocol)) < 0)
            throw new InvalidDataException($"the server did not choose subprotocol {subprotocol}");
        // Frames may follow the head in the same read.
        _start = end + 4;
    }

    /// <summary>Parses the next whole server frame; a data frame's payload is left for <see cref="ReceiveAsync"/>.</summary>
    private async ValueTask ReadFrameAsync(CancellationToken cancellationToken)
    {
        if (!await EnsureAsync(2, cancellationToken).ConfigureAwait(false)) return;
        byte b0 = _receive[_start], b1 = _receive[_start + 1];
        if ((b1 & MaskBit) != 0) throw new InvalidDataException("the server sent a masked frame (RFC 6455 §5.1)");
        int header = 2;
        long length = b1 & 0x7F;
        if (length == 126)
        {
            if (!await EnsureAsync(4, cancellationToken).ConfigureAwait(false)) return;
            length = BinaryPrimitives.ReadUInt16BigEndian(_receive.AsSpan(_start + 2));
            header = 4;
        }
        else if (length == 127)
        {
            if (!await EnsureAsync(10, cancellationToken).ConfigureAwait(false)) return;
            length = BinaryPrimitives.ReadInt64BigEndian(_receive.AsSpan(_start + 2));
            header = 10;
        }
        if (length < 0 || length > ReceiveBufferSize - header) throw new InvalidDataException($"a {length}-byte server frame is beyond what this client reads whole");
        if (!await EnsureAsync(header + (int)length, cancellationToken).ConfigureAwait(false)) return;
        int payload = _start + header;
        _start = payload + (int)length;
        switch ((WebSocketOpcode)(b0 & 0x0F))
        {
            case WebSocketOpcode.Binary or WebSocketOpcode.Continuation:
                (_dataOffset, _dataRemaining) = (payload, (int)length);
                break;
            case WebSocketOpcode.Ping:
                await SendControlAsync(WebSocketOpcode.Pong, _receive.AsSpan(payload, (int)length), cancellationToken).ConfigureAwait(false);
                break;
            case WebSocketOpcode.Pong:
                break;
            case WebSocketOpcode.Close:
                _closeReceived = true;
                if (_closeSent) break;
                try
                {
                    await SendCloseAsync(length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(_receive.AsSpan(payload)) : WebSocketCloseCodes.NormalClosure, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or SocketException)
                {
                    // The server may drop the connection right after its close frame; the handshake is over either way.
                }
                break;
            default:
                throw new InvalidDataException($"the server sent opcode {b0 & 0x0F}");
        }
    }

    private ValueTask SendCloseAsync(ushort code, CancellationToken cancellationToken)
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

    private async ValueTask<bool> EnsureAsync(int count, CancellationToken cancellationToken)
    {
        while (_end - _start < count)
        {
            if (!await FillAsync(cancellationToken).ConfigureAwait(false)) return false;
        }
        return true;
    }

    /// <summary>Reads more behind what is buffered (moved to the front first); false once the connection ended.</summary>
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
            // A reset after the close handshake is as final as an EOF.
            n = 0;
        }
        _end += n;
        if (n == 0) _ended = true;
        return n > 0;
    }

    private static byte[] Head(string subprotocol) => Encoding.ASCII.GetBytes(
        $"GET {TunnelServerTarget.UserPath} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: Go-http-client/1.1\r\nConnection: Upgrade\r\n" +
        $"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: {subprotocol}\r\nSec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n\r\n");

    // The Go client's head (docs/protocol.md §2.1): Host without a port, no Origin; one key for all (the server only checks its form).
    private static readonly byte[] SmuxOffHead = Head("smux_off");
    private static readonly byte[] SmuxOnHead = Head("smux_on");
}
