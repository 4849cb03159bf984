using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Mtt.Core.Transport;
using Mtt.Core.Transport.OpenSsl;

namespace Mtt.Core.WebSockets;

/// <summary>
/// The byte-stream view of an upgraded connection (docs/protocol.md §3): the payload of the client's binary
/// messages read as one stream, and bytes sent as binary messages. Pings are answered here; every
/// protocol violation ends in the one close path, <see cref="SendCloseAsync"/>.
/// </summary>
public sealed class WebSocketConnection
{
    // A whole frame, header included, fits one 64 KiB write segment of the transport, so each frame
    // leaves in one write (several full TLS records) instead of a header record and payload records.
    public const int MaxOutgoingFramePayload = 64 * 1024 - FrameWriter.MaxHeaderLength;

    /// <summary>
    /// Client payload read and dropped while waiting for its close frame: above what a client has in
    /// flight when our close reaches it (its socket buffers), so a normal client is always heard out,
    /// while one that keeps sending cannot keep us reading for the whole close timeout.
    /// </summary>
    public const int MaxDrainBytes = 8 * 1024 * 1024;

    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    // The TLS 1.3 record layer under _output, when the connection has one: binary messages skip _output and are
    // sealed from where their data lies (one copy less per byte). Everything else still goes through _output, and
    // every write, either way, is sent before the write lock is released, so nothing overtakes or lands inside another.
    private readonly Tls13RecordStream? _records;
    private readonly FrameDecoder _decoder = new();
    // The relay's two directions both write to the client (data one way, pong and close the other).
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private bool _closeSent;
    // A flush cut short by cancellation or an error may have left part of a frame on the wire; nothing
    // may follow it, or the client would read the rest of the stream as garbage frames.
    private bool _writeFailed;
    private bool _closeReceived;

    public WebSocketConnection(PipeReader input, PipeWriter output)
    {
        _input = input;
        _output = output;
    }

    /// <summary>A connection whose binary messages go straight to <paramref name="records"/>, the stream under <paramref name="output"/>.</summary>
    internal WebSocketConnection(PipeReader input, PipeWriter output, Tls13RecordStream? records)
        : this(input, output)
    {
        _records = records;
    }

    /// <summary>True once our close frame went out: nothing else may be sent after it (RFC 6455 §5.5.1).</summary>
    public bool CloseSent => Volatile.Read(ref _closeSent);

    /// <summary>
    /// Reads client frames and writes their payload to <paramref name="sink"/>, returning as soon as some
    /// payload was written (at most <paramref name="maxBytes"/>, so the caller can flush the sink for
    /// backpressure) or the connection's state changed. Never returns Data with zero bytes.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ReceiveResult> ReceiveAsync(IBufferWriter<byte> sink, int maxBytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = read.Buffer;
            int written = 0;
            while (true)
            {
                var decoded = _decoder.Decode(ref buffer, sink, maxBytes - written);
                written += decoded.PayloadBytes;
                switch (decoded.Status)
                {
                    case DecodeStatus.NeedMoreData:
                        _input.AdvanceTo(buffer.Start, buffer.End);
                        if (written > 0) return new ReceiveResult(ReceiveStatus.Data, written, 0);
                        if (read.IsCompleted || read.IsCanceled) return new ReceiveResult(ReceiveStatus.Ended, 0, 0);
                        goto readMore;

                    case DecodeStatus.SinkLimitReached:
                        // Leave the rest unexamined so the next call parses it without waiting for the network.
                        _input.AdvanceTo(buffer.Start);
                        return new ReceiveResult(ReceiveStatus.Data, written, 0);

                    case DecodeStatus.Ping:
                        await SendPongAsync(cancellationToken).ConfigureAwait(false);
                        continue;

                    case DecodeStatus.Pong:
                        continue;

                    case DecodeStatus.Close:
                        _input.AdvanceTo(buffer.Start);
                        _closeReceived = true;
                        // RFC 6455 §5.5.1: answer with a close frame, echoing the status code.
                        await SendCloseAsync(CloseCodeToEcho(decoded.CloseCode), cancellationToken).ConfigureAwait(false);
                        return new ReceiveResult(ReceiveStatus.Closed, written, decoded.CloseCode);

                    default:
                        _input.AdvanceTo(buffer.Start);
                        await SendCloseAsync(decoded.CloseCode, cancellationToken).ConfigureAwait(false);
                        return new ReceiveResult(ReceiveStatus.ProtocolError, written, decoded.CloseCode);
                }
            }

        readMore:;
        }
    }

    /// <summary>
    /// After our close frame, reads and drops what the client still sends until its close frame arrives,
    /// it disconnects, or <paramref name="timeout"/> runs out (RFC 6455 §7.1.1: the server closes the TCP
    /// connection after the close handshake). Closing at once instead, with the client's data still
    /// arriving, makes the kernel answer with a reset, and a reset can destroy our close frame in the
    /// client's receive buffer before the client has read it. Also after a protocol error that left the
    /// framing intact (a text frame, 1003). After any other, a malformed close frame included, this returns
    /// at once: nothing the client sends can be read any more, so there is no close of its to wait for
    /// (section 7.1.7, fail the connection). Bounded by <paramref name="timeout"/> and by <see cref="MaxDrainBytes"/>.
    /// </summary>
    public async Task DrainUntilCloseAsync(TimeSpan timeout, TimeProvider time)
    {
        if (!_closeSent || _closeReceived || _writeFailed || _decoder.HasFailed) return;
        using var discard = new DiscardingBufferWriter();
        using var deadline = new CancellationTokenSource(timeout, time);
        try
        {
            int drained = 0;
            while (drained < MaxDrainBytes)
            {
                var received = await ReceiveAsync(discard, MaxDrainBytes - drained, deadline.Token).ConfigureAwait(false);
                if (received.Status != ReceiveStatus.Data) break;
                drained += received.Bytes;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // Out of time, or the connection is gone or unusable after a cancelled read: done either way.
        }
    }

    /// <summary>Sends <paramref name="payload"/> as binary frames; false when the client can take no more (gone or closing).</summary>
    public ValueTask<bool> SendAsync(ReadOnlySequence<byte> payload, CancellationToken cancellationToken) =>
        SendAsync(payload, MaxOutgoingFramePayload, default(NoPrefix), cancellationToken);

    /// <summary>
    /// Sends <paramref name="data"/> as binary messages of at most <paramref name="maxDataPerMessage"/> bytes of
    /// it each, every message's payload <paramref name="prefix"/> then its data, all in one flush: the data is
    /// copied once, straight into the transport's buffer (or, on the TLS 1.3 record layer, sealed from where it lies).
    /// False when the client can take no more (gone or closing).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> SendAsync<TPrefix>(ReadOnlySequence<byte> data, int maxDataPerMessage, TPrefix prefix, CancellationToken cancellationToken)
        where TPrefix : struct, IMessagePrefix
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_closeSent || _writeFailed) return false;
            maxDataPerMessage = Math.Min(maxDataPerMessage, MaxOutgoingFramePayload - prefix.Length);
            if (_records is not null && FrameWriter.MaxHeaderLength + prefix.Length <= IFrameHeaders.MaxLength)
            {
                // _output holds nothing: every write flushes it before it releases the lock.
                try
                {
                    await _records.WriteFramedAsync(data, new BinaryMessageHeaders<TPrefix>(prefix, maxDataPerMessage), cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    _writeFailed = true;
                    throw;
                }
                return true;
            }
            WriteMessages(data, maxDataPerMessage, prefix);
            var flush = await FlushAsync(cancellationToken).ConfigureAwait(false);
            return !flush.IsCompleted && !flush.IsCanceled;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    // Called with the write lock held. Each message asks for exactly its own size, so messages that fill TLS
    // records exactly (an smux frame of 16 KiB with its headers) also fill the transport's buffers exactly.
    private void WriteMessages<TPrefix>(ReadOnlySequence<byte> data, int maxDataPerMessage, TPrefix prefix)
        where TPrefix : struct, IMessagePrefix
    {
        while (!data.IsEmpty)
        {
            int length = (int)Math.Min(data.Length, maxDataPerMessage);
            int payloadLength = prefix.Length + length;
            int headerLength = FrameWriter.HeaderLength(payloadLength);
            var span = _output.GetSpan(headerLength + payloadLength);
            FrameWriter.WriteHeader(span, WebSocketOpcode.Binary, fin: true, payloadLength);
            prefix.Write(span[headerLength..], length);
            data.Slice(0, length).CopyTo(span[(headerLength + prefix.Length)..]);
            _output.Advance(headerLength + payloadLength);
            data = data.Slice(length);
        }
    }

    /// <summary>Sends our close frame once; later calls do nothing. Failures to deliver it are ignored: the peer is going anyway.</summary>
    public async ValueTask SendCloseAsync(ushort code, CancellationToken cancellationToken)
    {
        try
        {
            await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            if (_closeSent || _writeFailed) return;
            Volatile.Write(ref _closeSent, true);
            FrameWriter.WriteClose(_output, code);
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // The connection is already broken or being torn down (a completed writer is the
            // InvalidOperationException): there is no one left to tell.
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async ValueTask SendPongAsync(CancellationToken cancellationToken)
    {
        // The ping's payload is a span over the decoder's buffer and cannot live across the await.
        int length = _decoder.ControlPayload.Length;
        byte[] payload = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            _decoder.ControlPayload.CopyTo(payload);
            await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (_closeSent || _writeFailed) return;
                FrameWriter.WritePong(_output, payload.AsSpan(0, length));
                await FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _writeLock.Release();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(payload);
        }
    }

    // Called with the write lock held.
    private async ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _writeFailed = true;
            throw;
        }
    }

    // 1005 means "no code was given" and must not be sent on the wire (RFC 6455 §7.4.1).
    private static ushort CloseCodeToEcho(ushort received) =>
        received == WebSocketCloseCodes.NoStatusReceived ? WebSocketCloseCodes.NormalClosure : received;
}
