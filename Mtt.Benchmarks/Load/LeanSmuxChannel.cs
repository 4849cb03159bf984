using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Mtt.Tests.Support;

namespace Mtt.Benchmarks.Load;

/// <summary>
/// One smux_on session over <see cref="RawWebSocketClient"/> carrying one stream (docs/protocol.md §4), as mtt-client
/// opens one: SYN for id 3 (no answer awaited), each send PSH frames of at most 16 KiB, one message each.
/// Reads parse the server's smux frames however they fall into messages. Closing sends FIN, waits for the
/// server's FIN (its backend ended), then does the WebSocket close handshake.
/// Version 2: sends are small and one at a time here (never near the server's window), and what is read
/// is announced (UPD) at the first read and then every half window, as xtaci/smux does.
/// </summary>
internal sealed class LeanSmuxChannel : EchoChannel
{
    // One whole smux frame of the largest length, its header included, and room for the next to start.
    private const int ParseBufferSize = 2 * (SmuxWire.HeaderSize + SmuxWire.MaxFrameLength);

    private readonly RawWebSocketClient _socket;
    private readonly byte _version;
    private readonly byte[] _header = new byte[SmuxWire.HeaderSize + 8];
    private readonly byte[] _frames = ArrayPool<byte>.Shared.Rent(ParseBufferSize);
    private int _start;
    private int _end;
    private int _dataOffset;
    private int _dataRemaining;
    private bool _finReceived;
    private bool _finSent;
    private uint _consumed;
    private uint _announced;
    private bool _announcedOnce;
    private int _disposed;

    private LeanSmuxChannel(RawWebSocketClient socket, byte version)
    {
        _socket = socket;
        _version = version;
    }

    private static uint StreamId => SmuxWire.FirstClientStreamId;

    public static async Task<EchoChannel> ConnectAsync(int port, bool tls, byte version, CancellationToken cancellationToken)
    {
        var socket = await RawWebSocketClient.OpenTunnelAsync(port, tls ? LoadClientTls.Options : null, TunnelServerTarget.UserPath, "smux_on", cancellationToken).ConfigureAwait(false);
        var channel = new LeanSmuxChannel(socket, version);
        try
        {
            await channel.SendControlAsync(SmuxWire.Syn, 0, cancellationToken).ConfigureAwait(false);
            return channel;
        }
        catch
        {
            await channel.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public override async ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            int length = Math.Min(data.Length, SmuxWire.ClientFrameData);
            SmuxWire.WriteHeader(_header, _version, SmuxWire.Psh, length, StreamId);
            await _socket.SendBinaryAsync(_header.AsMemory(0, SmuxWire.HeaderSize), data[..length], cancellationToken).ConfigureAwait(false);
            data = data[length..];
        }
    }

    /// <summary>PSH data of the stream; 0 after the server's FIN or the end of the session.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (_dataRemaining == 0)
        {
            if (_finReceived) return 0;
            if (!await NextFrameAsync(cancellationToken).ConfigureAwait(false)) return 0;
        }
        int count = Math.Min(_dataRemaining, buffer.Length);
        _frames.AsSpan(_dataOffset, count).CopyTo(buffer.Span);
        _dataOffset += count;
        _dataRemaining -= count;
        if (_version == 2) await ConsumedAsync(count, cancellationToken).ConfigureAwait(false);
        return count;
    }

    /// <summary>FIN, the server's FIN (what still arrives is dropped), then the close handshake; bounded in time by the socket's close.</summary>
    public override async Task CloseAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        bool finished;
        try
        {
            if (!_finSent)
            {
                _finSent = true;
                await SendControlAsync(SmuxWire.Fin, 0, timeout.Token).ConfigureAwait(false);
            }
            while (!_finReceived)
            {
                _dataRemaining = 0;
                if (!await NextFrameAsync(timeout.Token).ConfigureAwait(false)) break;
            }
            finished = _finReceived;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            finished = false;
        }
        bool closed = await _socket.CloseAsync().ConfigureAwait(false);
        if (!finished) throw new IOException("the server sent no FIN for the stream after ours");
        if (!closed) throw new IOException("the server did not finish the close handshake");
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _socket.DisposeAsync().ConfigureAwait(false);
        ArrayPool<byte>.Shared.Return(_frames);
    }

    /// <summary>Parses the next whole smux frame; false when the session ended first.</summary>
    private async ValueTask<bool> NextFrameAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_end - _start >= SmuxWire.HeaderSize)
            {
                var header = _frames.AsSpan(_start, SmuxWire.HeaderSize);
                if (header[0] != _version) throw new InvalidDataException($"the server sent a version {header[0]} frame in a version {_version} session");
                byte command = header[1];
                int length = BinaryPrimitives.ReadUInt16LittleEndian(header[2..]);
                uint id = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
                if (_end - _start >= SmuxWire.HeaderSize + length)
                {
                    int data = _start + SmuxWire.HeaderSize;
                    _start = data + length;
                    switch (command)
                    {
                        case SmuxWire.Psh when id == StreamId:
                            (_dataOffset, _dataRemaining) = (data, length);
                            return true;
                        case SmuxWire.Fin when id == StreamId:
                            _finReceived = true;
                            return true;
                        case SmuxWire.Psh or SmuxWire.Fin or SmuxWire.Nop:
                            continue;
                        case SmuxWire.Upd when _version == 2 && length == 8:
                            // Our sends are far inside any window the server grants.
                            continue;
                        default:
                            throw new InvalidDataException($"the server sent command {command} (length {length}) in a version {_version} session");
                    }
                }
            }
            if (_start > 0)
            {
                Buffer.BlockCopy(_frames, _start, _frames, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            int n = await _socket.ReceiveAsync(_frames.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (n == 0) return false;
            _end += n;
        }
    }

    private ValueTask SendControlAsync(byte command, uint consumed, CancellationToken cancellationToken)
    {
        int length = command == SmuxWire.Upd ? 8 : 0;
        SmuxWire.WriteHeader(_header, _version, command, length, StreamId);
        if (length > 0)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_header.AsSpan(SmuxWire.HeaderSize), consumed);
            BinaryPrimitives.WriteUInt32LittleEndian(_header.AsSpan(SmuxWire.HeaderSize + 4), SmuxWire.Window);
        }
        return _socket.SendBinaryAsync(_header.AsMemory(0, SmuxWire.HeaderSize + length), ReadOnlyMemory<byte>.Empty, cancellationToken);
    }

    private ValueTask ConsumedAsync(int count, CancellationToken cancellationToken)
    {
        _consumed += (uint)count;
        if (_announcedOnce && _consumed - _announced < SmuxWire.Window / 2) return ValueTask.CompletedTask;
        _announcedOnce = true;
        _announced = _consumed;
        return SendControlAsync(SmuxWire.Upd, _consumed, cancellationToken);
    }
}
