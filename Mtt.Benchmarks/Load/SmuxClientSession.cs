using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.WebSockets;

namespace Mtt.Benchmarks.Load;

/// <summary>
/// A lean smux client (docs/protocol.md §4) over one TLS WebSocket with subprotocol smux_on, as mtt-client opens
/// them: streams with odd ids from 3, one SYN each; every frame one binary message; a NOP every 30 s.
/// One read loop parses the server's frames (whatever way they are split over messages) and hands each
/// stream its data. The session closes (WebSocket close handshake) when its last stream is closed.
/// </summary>
internal sealed class SmuxClientSession : IAsyncDisposable
{
    /// <summary>Read buffer for bulk sessions: several of the server's 16 KiB frames per receive.</summary>
    public const int BulkReadBufferSize = 256 * 1024;

    /// <summary>Read buffer for idle sessions: the least that holds any frame whole (64 KiB of data and a header).</summary>
    public const int IdleReadBufferSize = SmuxWire.HeaderSize + SmuxWire.MaxFrameLength;

    // mtt-client's keepalive period; the server gives a session up after 70 s of silence.
    private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(10);

    private readonly ClientWebSocket _socket;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<uint, SmuxClientStream> _streams = new();
    private readonly byte[] _readBuffer;
    private readonly byte[] _controlFrame = new byte[SmuxWire.HeaderSize + 8];
    private readonly Task _readLoop;
    private readonly Timer _keepAlive;
    private uint _lastId = SmuxWire.FirstClientStreamId - 2;
    private int _liveStreams;
    private int _closing;

    private SmuxClientSession(ClientWebSocket socket, byte version, int readBufferSize)
    {
        _socket = socket;
        Version = version;
        _readBuffer = GC.AllocateUninitializedArray<byte>(readBufferSize);
        _readLoop = Task.Run(ReadLoopAsync);
        _keepAlive = new Timer(static state => _ = ((SmuxClientSession)state!).SendNopAsync(), this, KeepAliveInterval, KeepAliveInterval);
    }

    public byte Version { get; }

    /// <summary>Connects and upgrades with smux_on; <paramref name="webSocketBufferSize"/> sizes ClientWebSocket's own buffers.</summary>
    public static async Task<SmuxClientSession> ConnectAsync(Uri uri, HttpMessageInvoker invoker, byte version, int webSocketBufferSize, int readBufferSize, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        try
        {
            socket.Options.AddSubProtocol("smux_on");
            socket.Options.SetBuffer(webSocketBufferSize, webSocketBufferSize);
            // smux_on clients keep the session alive with smux NOPs, not WebSocket pings.
            socket.Options.KeepAliveInterval = TimeSpan.Zero;
            await socket.ConnectAsync(uri, invoker, cancellationToken).ConfigureAwait(false);
            if (socket.SubProtocol != "smux_on")
                throw new InvalidOperationException($"the server chose subprotocol '{socket.SubProtocol}', not smux_on");
            return new SmuxClientSession(socket, version, readBufferSize);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Opens a stream as xtaci/smux does: the next odd id, one SYN, no answer awaited (none comes).</summary>
    public async Task<SmuxClientStream> OpenStreamAsync(CancellationToken cancellationToken)
    {
        uint id = Interlocked.Add(ref _lastId, 2);
        var stream = new SmuxClientStream(this, id);
        _streams[id] = stream;
        Interlocked.Increment(ref _liveStreams);
        await SendControlAsync(SmuxWire.Syn, id, 0, 0, cancellationToken).ConfigureAwait(false);
        return stream;
    }

    /// <summary>Sends one whole frame as one binary message; frames of all streams take turns on the lock.</summary>
    public async ValueTask SendFrameAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _socket.SendAsync(frame, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public ValueTask SendFinAsync(uint id, CancellationToken cancellationToken) => SendControlAsync(SmuxWire.Fin, id, 0, 0, cancellationToken);

    /// <summary>Version 2: tells the server what this stream has consumed and the window it grants.</summary>
    public ValueTask SendUpdateAsync(uint id, uint consumed, CancellationToken cancellationToken) =>
        SendControlAsync(SmuxWire.Upd, id, consumed, SmuxWire.Window, cancellationToken);

    /// <summary>A stream is done with: the session ends with its last one, politely or (<paramref name="graceful"/> false) by abort.</summary>
    public async Task ReleaseStreamAsync(bool graceful)
    {
        if (Interlocked.Decrement(ref _liveStreams) != 0) return;
        if (graceful) await CloseAsync().ConfigureAwait(false);
        else await DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The WebSocket close handshake: our close frame, then the read loop sees the server's, bounded in time.</summary>
    public async Task CloseAsync()
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0) return;
        await _keepAlive.DisposeAsync().ConfigureAwait(false);
        using var timeout = new CancellationTokenSource(CloseTimeout);
        try
        {
            await _sendLock.WaitAsync(timeout.Token).ConfigureAwait(false);
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
            }
            finally
            {
                _sendLock.Release();
            }
            await _readLoop.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or TimeoutException)
        {
            _socket.Abort();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Interlocked.Exchange(ref _closing, 1);
        await _keepAlive.DisposeAsync().ConfigureAwait(false);
        _socket.Abort();
        try
        {
            await _readLoop.WaitAsync(CloseTimeout).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or InvalidDataException)
        {
        }
        _socket.Dispose();
    }

    private async ValueTask SendControlAsync(byte command, uint id, uint consumed, uint window, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            int length = command == SmuxWire.Upd ? 8 : 0;
            SmuxWire.WriteHeader(_controlFrame, Version, command, length, id);
            if (length > 0)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(_controlFrame.AsSpan(SmuxWire.HeaderSize), consumed);
                BinaryPrimitives.WriteUInt32LittleEndian(_controlFrame.AsSpan(SmuxWire.HeaderSize + 4), window);
            }
            await _socket.SendAsync(_controlFrame.AsMemory(0, SmuxWire.HeaderSize + length), WebSocketMessageType.Binary, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task SendNopAsync()
    {
        if (Volatile.Read(ref _closing) != 0) return;
        try
        {
            await SendControlAsync(SmuxWire.Nop, 0, 0, 0, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private async Task ReadLoopAsync()
    {
        var buffer = _readBuffer;
        int start = 0, end = 0, need = SmuxWire.HeaderSize;
        Exception? fault = null;
        try
        {
            while (true)
            {
                // Room for the frame under way: move it to the front only when it would not fit behind.
                if (start + need > buffer.Length || end == buffer.Length)
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    start = 0;
                }
                var result = await _socket.ReceiveAsync(buffer.AsMemory(end), CancellationToken.None).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close) return;
                if (result.MessageType != WebSocketMessageType.Binary) throw new InvalidDataException($"the server sent a {result.MessageType} message in an smux session");
                end += result.Count;
                need = SmuxWire.HeaderSize;
                while (end - start >= SmuxWire.HeaderSize)
                {
                    var header = buffer.AsSpan(start, SmuxWire.HeaderSize);
                    if (header[0] != Version) throw new InvalidDataException($"the server sent a version {header[0]} frame in a version {Version} session");
                    byte command = header[1];
                    int length = BinaryPrimitives.ReadUInt16LittleEndian(header[2..]);
                    uint id = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
                    need = SmuxWire.HeaderSize + length;
                    if (end - start < need) break;
                    var data = buffer.AsMemory(start + SmuxWire.HeaderSize, length);
                    _streams.TryGetValue(id, out var stream);
                    switch (command)
                    {
                        case SmuxWire.Psh:
                            if (stream is not null) await stream.DeliverAsync(data).ConfigureAwait(false);
                            break;
                        case SmuxWire.Fin:
                            stream?.OnFin();
                            break;
                        case SmuxWire.Nop:
                            break;
                        case SmuxWire.Upd when Version == 2 && length == 8:
                            stream?.OnUpdate(BinaryPrimitives.ReadUInt32LittleEndian(data.Span), BinaryPrimitives.ReadUInt32LittleEndian(data.Span[4..]));
                            break;
                        default:
                            throw new InvalidDataException($"the server sent command {command} (length {length}) in a version {Version} session");
                    }
                    start += need;
                    need = SmuxWire.HeaderSize;
                }
                if (start == end) start = end = 0;
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The connection ended (our abort included): the streams see the end of their data.
        }
        catch (InvalidDataException e)
        {
            fault = e;
            _socket.Abort();
        }
        finally
        {
            foreach (var stream in _streams.Values) stream.OnSessionEnded(fault);
        }
    }
}
