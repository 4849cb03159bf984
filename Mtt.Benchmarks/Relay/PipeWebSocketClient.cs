using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Mtt.Core.WebSockets;

namespace Mtt.Benchmarks.Relay;

/// <summary>
/// A WebSocket client held in memory: two pipes, with the server's <see cref="WebSocketConnection"/> on
/// their other ends. It sends prepared masked frames and takes the server's frames one whole message at
/// a time. Allocates nothing per message once running, so what a measurement around it sees is the
/// server's.
/// </summary>
internal sealed class PipeWebSocketClient
{
    // Far above one message of the rigs, so the server's flush never waits on the client's reading pace.
    private const long PauseThreshold = 1024 * 1024;

    private readonly Pipe _toServer = new(new PipeOptions(pauseWriterThreshold: PauseThreshold, resumeWriterThreshold: PauseThreshold / 2, useSynchronizationContext: false));
    private readonly Pipe _toClient = new(new PipeOptions(pauseWriterThreshold: PauseThreshold, resumeWriterThreshold: PauseThreshold / 2, useSynchronizationContext: false));
    // The message last returned is consumed at the next call: its payload stays valid until then.
    private SequencePosition? _consumed;

    public PipeWebSocketClient() => Server = new WebSocketConnection(_toServer.Reader, _toClient.Writer);

    /// <summary>The server's side of the connection, for a tunnel or a session to run over.</summary>
    public WebSocketConnection Server { get; }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendAsync(ReadOnlyMemory<byte> frames)
    {
        _toServer.Writer.Write(frames.Span);
        await _toServer.Writer.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>The payload of the server's next binary message; valid until the next call.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ReadOnlySequence<byte>> ReceiveMessageAsync()
    {
        var reader = _toClient.Reader;
        if (_consumed is { } consumed)
        {
            reader.AdvanceTo(consumed);
            _consumed = null;
        }
        while (true)
        {
            var read = await reader.ReadAsync().ConfigureAwait(false);
            var buffer = read.Buffer;
            if (TryTakeFrame(buffer, out byte first, out var payload))
            {
                _consumed = payload.End;
                if (first != (0x80 | (byte)WebSocketOpcode.Binary))
                {
                    reader.AdvanceTo(payload.End);
                    _consumed = null;
                    throw new InvalidOperationException($"the server sent frame byte 0x{first:x2}, not a final binary frame (closed?)");
                }
                return payload;
            }
            if (read.IsCompleted) throw new InvalidOperationException("the server's side of the connection ended");
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Ends the client's sending side, as a client that disconnects.</summary>
    public void Complete()
    {
        _toServer.Writer.Complete();
        if (_consumed is { } consumed) _toClient.Reader.AdvanceTo(consumed);
        _consumed = null;
        _toClient.Reader.Complete();
    }

    /// <summary>A whole server frame (unmasked, RFC 6455 section 5.2) at the start of <paramref name="buffer"/>.</summary>
    private static bool TryTakeFrame(ReadOnlySequence<byte> buffer, out byte first, out ReadOnlySequence<byte> payload)
    {
        first = 0;
        payload = default;
        Span<byte> header = stackalloc byte[FrameWriter.MaxHeaderLength];
        int available = (int)Math.Min(buffer.Length, header.Length);
        if (available < 2) return false;
        buffer.Slice(0, available).CopyTo(header);
        first = header[0];
        int length7 = header[1] & 0x7F;
        (int headerLength, long payloadLength) = length7 switch
        {
            126 when available >= 4 => (4, BinaryPrimitives.ReadUInt16BigEndian(header[2..])),
            127 when available >= 10 => (10, BinaryPrimitives.ReadInt64BigEndian(header[2..])),
            126 or 127 => (-1, 0L),
            _ => (2, length7),
        };
        if (headerLength < 0 || buffer.Length < headerLength + payloadLength) return false;
        payload = buffer.Slice(headerLength, payloadLength);
        return true;
    }
}
