using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;

namespace Mtt.Tests.Support;

/// <summary>
/// An smux client for the tests, written from xtaci/smux's behaviour rather than from the server's code:
/// odd stream ids from 3, one frame per binary message, version 1 or 2 (UPD flow control both ways).
/// It sends no keepalives of its own, so a test decides whether the client looks alive.
/// </summary>
public sealed class SmuxTestClient : IAsyncDisposable
{
    public const int HeaderSize = 8;
    public const byte Syn = 0, Fin = 1, Psh = 2, Nop = 3, Upd = 4;

    /// <summary>Frames the client writes carry at most this much (as mtt-client).</summary>
    public const int MaxFrameData = 16 * 1024;

    /// <summary>xtaci/smux's initialPeerWindow: what each side assumes of the other until the first UPD.</summary>
    public const int InitialWindow = 256 * 1024;

    private readonly WebSocket _socket;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<uint, SmuxTestStream> _streams = new();
    private readonly TaskCompletionSource<WebSocketCloseStatus?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _firstNop = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _readLoop;
    private uint _nextId = 1;
    private int _framesReceived;

    public SmuxTestClient(WebSocket socket, byte version = 1, int receiveWindow = InitialWindow)
    {
        _socket = socket;
        Version = version;
        ReceiveWindow = receiveWindow;
        _readLoop = Task.Run(ReadLoopAsync);
    }

    public byte Version { get; }

    /// <summary>Version 2: the window this client grants each stream in its UPDs.</summary>
    public int ReceiveWindow { get; }

    /// <summary>Completes when the server closed the WebSocket (its close status) or the connection ended (null).</summary>
    public Task<WebSocketCloseStatus?> Closed => _closed.Task;

    /// <summary>Completes at the first NOP from the server.</summary>
    public Task FirstNop => _firstNop.Task;

    public int FramesReceived => Volatile.Read(ref _framesReceived);

    public static async Task<SmuxTestClient> ConnectAsync(Uri uri, byte version = 1, string? subprotocol = "smux_on", X509Certificate2? pinned = null, int receiveWindow = InitialWindow)
    {
        var socket = new ClientWebSocket();
        if (subprotocol is not null) socket.Options.AddSubProtocol(subprotocol);
        if (pinned is not null)
        {
            socket.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(pinned.RawData);
        }
        await socket.ConnectAsync(uri, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        return new SmuxTestClient(socket, version, receiveWindow);
    }

    /// <summary>Opens a stream as the Go library does: the next odd id, one SYN, no answer awaited.</summary>
    public async Task<SmuxTestStream> OpenStreamAsync()
    {
        uint id = Interlocked.Add(ref _nextId, 2);
        var stream = new SmuxTestStream(this, id);
        _streams[id] = stream;
        await SendFrameAsync(Syn, id, ReadOnlyMemory<byte>.Empty);
        return stream;
    }

    /// <summary>Tracks a stream id whose frames a test writes by hand.</summary>
    public SmuxTestStream Register(uint id) => _streams[id] = new SmuxTestStream(this, id);

    public Task SendFrameAsync(byte command, uint streamId, ReadOnlyMemory<byte> data) => SendFrameAsync(Version, command, streamId, data);

    public Task SendFrameAsync(byte version, byte command, uint streamId, ReadOnlyMemory<byte> data)
    {
        var frame = new byte[HeaderSize + data.Length];
        WriteHeader(frame, version, command, (ushort)data.Length, streamId);
        data.CopyTo(frame.AsMemory(HeaderSize));
        return SendMessageAsync(frame);
    }

    public static void WriteHeader(Span<byte> destination, byte version, byte command, ushort length, uint streamId)
    {
        destination[0] = version;
        destination[1] = command;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], streamId);
    }

    /// <summary>Sends arbitrary bytes as one binary message (frames split or joined as a test likes).</summary>
    public async Task SendMessageAsync(ReadOnlyMemory<byte> message)
    {
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(message, WebSocketMessageType.Binary, true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    internal async Task SendUpdateAsync(uint streamId, uint consumed)
    {
        var data = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(data, consumed);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4), (uint)ReceiveWindow);
        await SendFrameAsync(Upd, streamId, data);
    }

    public Task SendCloseAsync() => _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[256 * 1024];
        int start = 0, end = 0;
        Exception? cause = null;
        try
        {
            while (true)
            {
                if (end == buffer.Length)
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    start = 0;
                }
                var result = await _socket.ReceiveAsync(buffer.AsMemory(end), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    _closed.TrySetResult(_socket.CloseStatus);
                    return;
                }
                end += result.Count;
                while (end - start >= HeaderSize)
                {
                    var header = buffer.AsSpan(start, HeaderSize);
                    if (header[0] != Version) throw new InvalidDataException($"server frame version {header[0]} in a version {Version} session");
                    byte command = header[1];
                    int length = BinaryPrimitives.ReadUInt16LittleEndian(header[2..]);
                    uint id = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
                    if (end - start < HeaderSize + length) break;
                    var data = buffer.AsMemory(start + HeaderSize, length);
                    Interlocked.Increment(ref _framesReceived);
                    _streams.TryGetValue(id, out var stream);
                    switch (command)
                    {
                        case Psh:
                            if (length > MaxFrameData) throw new InvalidDataException($"server frame of {length} bytes exceeds 16 KiB");
                            if (stream is not null) await stream.DeliverAsync(data);
                            break;
                        case Fin:
                            stream?.OnFin();
                            break;
                        case Nop:
                            _firstNop.TrySetResult();
                            break;
                        case Upd:
                            if (Version != 2) throw new InvalidDataException("UPD in a version 1 session");
                            stream?.OnUpdate(BinaryPrimitives.ReadUInt32LittleEndian(data.Span), BinaryPrimitives.ReadUInt32LittleEndian(data.Span[4..]));
                            break;
                        default:
                            throw new InvalidDataException($"server sent command {command}");
                    }
                    start += HeaderSize + length;
                }
                if (start == end) start = end = 0;
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            cause = e;
            _closed.TrySetResult(null);
        }
        catch (Exception e)
        {
            cause = e;
            _closed.TrySetException(e);
        }
        finally
        {
            // Said in the streams' end: "the session ended" alone cannot tell a close from a reset or a bad frame.
            string how = cause is null ? $"closed by the server ({_socket.CloseStatus})" : $"{cause.GetType().Name}: {cause.Message}{(cause.InnerException is { } inner ? $" ({inner.GetType().Name}: {inner.Message})" : "")}";
            foreach (var stream in _streams.Values) stream.OnSessionEnded(how);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        _socket.Dispose();
        try { await _readLoop.WaitAsync(TimeSpan.FromSeconds(10)); } catch (Exception) { }
    }
}
