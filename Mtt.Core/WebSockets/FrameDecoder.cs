using System.Buffers;
using System.Buffers.Binary;
using System.Text.Unicode;
using static Mtt.Core.WebSockets.FrameHeaderLayout;

namespace Mtt.Core.WebSockets;

/// <summary>
/// Decodes the frames a client sends (RFC 6455 section 5) into one byte stream of binary payload,
/// stopping at control frames, at the caller's payload budget, at the end of the buffer, or at the
/// first protocol violation. One per connection: it holds the state of a data frame whose payload
/// is still arriving, so payload is delivered as it comes rather than once a frame is whole.
/// </summary>
/// <remarks>
/// Non-minimal length encodings (a 16-bit length below 126, a 64-bit length below 65536) are
/// accepted although section 5.2 says the minimal encoding MUST be used: the length is unambiguous
/// either way, it is bounded by the same checks, and ManagedWebSocket and gorilla/websocket accept
/// them too, so refusing would only break an odd but harmless peer.
/// After a valid close frame any further frame is a protocol error (section 5.5.1: the peer sends
/// nothing after its close); an empty buffer still just needs more data.
/// A text frame (1003) breaks no framing rule, so the frame boundaries are still known after it: the
/// decoder then goes on, for the close handshake only, delivering every data frame's payload (text
/// included) for the caller to discard until the client's close frame. After any other violation
/// (1002, 1007, 1009) the boundaries cannot be trusted and every later call is refused.
/// </remarks>
public sealed class FrameDecoder
{
    /// <summary>
    /// Payloads are streamed to the sink, never buffered whole, so this bound is not about memory: it
    /// refuses absurd length claims (up to 2^63-1) from a broken or hostile peer. The Go client sends
    /// frames of at most 16 KiB of smux data plus headers, far below it.
    /// </summary>
    public const long DefaultMaxFramePayload = 16 * 1024 * 1024;

    private readonly long _maxFramePayload;
    private readonly byte[] _controlPayload = new byte[MaxControlPayload];
    private int _controlLength;

    // The data frame in progress: payload bytes still to come and the mask position they resume at.
    private long _payloadRemaining;
    private int _maskKey;
    private int _maskOffset;

    // A binary message was started with FIN=0 and awaits continuation frames (section 5.4).
    private bool _messageInProgress;
    private bool _closeReceived;

    // Set by the one failure path; non-zero means every later call is refused with this code, unless
    // the framing is still intact (a text frame), when later calls go on decoding for the close handshake.
    private ushort _failureCode;
    private bool _draining;

    public FrameDecoder(long maxFramePayload = DefaultMaxFramePayload)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxFramePayload);
        _maxFramePayload = maxFramePayload;
    }

    /// <summary>
    /// True after a violation that left the frame boundaries unknown (1002, 1007, 1009, a malformed close
    /// frame among them): nothing more can be read, so there is no close handshake to wait for and the
    /// connection is failed at once (RFC 6455 section 7.1.7). False after a text frame (1003).
    /// </summary>
    public bool HasFailed => _failureCode != 0 && !_draining;

    /// <summary>The unmasked payload of the control frame just returned; valid until the next call.</summary>
    public ReadOnlySpan<byte> ControlPayload => _controlPayload.AsSpan(0, _controlLength);

    /// <summary>
    /// Decodes frames from <paramref name="buffer"/> and slices off what it consumed. Binary and
    /// continuation payload is unmasked into <paramref name="payloadSink"/>; the call stops once
    /// <paramref name="maxPayloadBytes"/> were written, at a complete control frame, when the buffer
    /// ends, or at a protocol error (the offending frame is left in the buffer). After a protocol error
    /// that left the framing intact, later calls deliver the payload of every data frame, text included,
    /// until the close frame: only a caller discarding it while it waits for the close may go on.
    /// </summary>
    public DecodeResult Decode(ref ReadOnlySequence<byte> buffer, IBufferWriter<byte> payloadSink, int maxPayloadBytes)
    {
        ArgumentNullException.ThrowIfNull(payloadSink);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPayloadBytes);

        _controlLength = 0;
        if (_failureCode != 0 && !_draining) return new DecodeResult(DecodeStatus.ProtocolError, 0, _failureCode);

        var reader = new SequenceReader<byte>(buffer);
        int written = 0;
        DecodeResult result;
        while (true)
        {
            if (_payloadRemaining > 0)
            {
                written += CopyPayload(ref reader, payloadSink, maxPayloadBytes - written);
                if (_payloadRemaining > 0 && written < maxPayloadBytes)
                {
                    result = new DecodeResult(DecodeStatus.NeedMoreData, written);
                    break;
                }
            }

            if (written == maxPayloadBytes)
            {
                result = new DecodeResult(DecodeStatus.SinkLimitReached, written);
                break;
            }

            if (ReadFrameStart(ref reader, written, out result)) break;
        }

        buffer = buffer.Slice(reader.Position);
        return result;
    }

    /// <summary>
    /// Reads the next frame's header. A data frame's header is consumed and false returned, so the
    /// caller goes on to its payload; otherwise true with the result to stop at (a control frame is
    /// consumed only once it is whole, so it is always handed over in one piece).
    /// </summary>
    private bool ReadFrameStart(ref SequenceReader<byte> reader, int written, out DecodeResult result)
    {
        // The header may span segments: parse the current segment in place when it holds the longest
        // possible header, else copy what there is (at most 14 bytes) without consuming it.
        scoped ReadOnlySpan<byte> header = reader.UnreadSpan;
        Span<byte> scratch = stackalloc byte[MaxClientHeaderBytes];
        if (header.Length < MaxClientHeaderBytes)
        {
            int available = (int)Math.Min(reader.Remaining, MaxClientHeaderBytes);
            reader.TryCopyTo(scratch[..available]);
            header = scratch[..available];
        }

        if (header.Length < MinHeaderBytes)
        {
            result = new DecodeResult(DecodeStatus.NeedMoreData, written);
            return true;
        }

        // Everything that can be judged from the first two bytes is judged before waiting for more.
        byte first = header[0], second = header[1];
        bool fin = (first & FinBit) != 0;
        var opcode = (WebSocketOpcode)(first & OpcodeBits);
        int length7 = second & LengthBits;

        ushort violation = 0;
        if (_closeReceived) violation = WebSocketCloseCodes.ProtocolError;                      // 5.5.1: nothing after close
        else if ((first & ReservedBits) != 0) violation = WebSocketCloseCodes.ProtocolError;    // 5.2: no extension negotiated
        else if ((second & MaskBit) == 0) violation = WebSocketCloseCodes.ProtocolError;        // 5.1: clients must mask
        else
        {
            switch (opcode)
            {
                // While draining, data is discarded whatever its message: only frame boundaries matter.
                case WebSocketOpcode.Binary:
                    if (_messageInProgress && !_draining) violation = WebSocketCloseCodes.ProtocolError;  // 5.4: fragments not interleaved
                    break;
                case WebSocketOpcode.Continuation:
                    if (!_messageInProgress && !_draining) violation = WebSocketCloseCodes.ProtocolError; // 5.4: nothing to continue
                    break;
                case WebSocketOpcode.Text:
                    if (_draining) break;
                    // 5.4: a new data frame inside a fragmented message is an interleaving error, whatever its type.
                    if (_messageInProgress) violation = WebSocketCloseCodes.ProtocolError;
                    // 7.4.1: we carry binary only. The frame is well formed, so the close handshake can follow.
                    else return FailKeepingFraming(WebSocketCloseCodes.UnsupportedData, written, out result);
                    break;
                case WebSocketOpcode.Close or WebSocketOpcode.Ping or WebSocketOpcode.Pong:
                    if (!fin || length7 > MaxControlPayload) violation = WebSocketCloseCodes.ProtocolError; // 5.5
                    break;
                default:
                    violation = WebSocketCloseCodes.ProtocolError;                               // 5.2: reserved opcode
                    break;
            }
        }
        if (violation != 0) return Fail(violation, written, out result);

        int extendedBytes = ExtendedLengthBytes(length7);
        int headerLength = MinHeaderBytes + extendedBytes + MaskKeyBytes;
        if (header.Length < headerLength)
        {
            result = new DecodeResult(DecodeStatus.NeedMoreData, written);
            return true;
        }

        long payloadLength = extendedBytes switch
        {
            Length16Bytes => BinaryPrimitives.ReadUInt16BigEndian(header[MinHeaderBytes..]),
            Length64Bytes => BinaryPrimitives.ReadInt64BigEndian(header[MinHeaderBytes..]),
            _ => length7,
        };
        if (payloadLength < 0) return Fail(WebSocketCloseCodes.ProtocolError, written, out result); // 5.2: top bit must be 0
        int maskKey = BinaryPrimitives.ReadInt32LittleEndian(header[(headerLength - MaskKeyBytes)..]);

        if (IsControl(opcode))
        {
            int controlLength = (int)payloadLength;
            if (reader.Remaining < headerLength + controlLength)
            {
                result = new DecodeResult(DecodeStatus.NeedMoreData, written);
                return true;
            }
            reader.Advance(headerLength);
            Span<byte> payload = _controlPayload.AsSpan(0, controlLength);
            reader.TryCopyTo(payload);
            reader.Advance(controlLength);
            Masking.Apply(payload, maskKey, 0);
            _controlLength = controlLength;
            return CompleteControlFrame(opcode, payload, written, out result);
        }

        if (payloadLength > _maxFramePayload) return Fail(WebSocketCloseCodes.MessageTooBig, written, out result);

        reader.Advance(headerLength);
        if (opcode != WebSocketOpcode.Continuation) _messageInProgress = !fin;
        else if (fin) _messageInProgress = false;
        _payloadRemaining = payloadLength;
        _maskKey = maskKey;
        _maskOffset = 0;
        result = default;
        return false;
    }

    private bool CompleteControlFrame(WebSocketOpcode opcode, ReadOnlySpan<byte> payload, int written, out DecodeResult result)
    {
        if (opcode == WebSocketOpcode.Ping)
        {
            result = new DecodeResult(DecodeStatus.Ping, written);
            return true;
        }
        if (opcode == WebSocketOpcode.Pong)
        {
            result = new DecodeResult(DecodeStatus.Pong, written);
            return true;
        }

        // Close (section 5.5.1): no body, or a 2-byte code and an optional UTF-8 reason.
        ushort code = WebSocketCloseCodes.NoStatusReceived;
        if (payload.Length > 0)
        {
            if (payload.Length < sizeof(ushort)) return Fail(WebSocketCloseCodes.ProtocolError, written, out result);
            code = BinaryPrimitives.ReadUInt16BigEndian(payload);
            if (!WebSocketCloseCodes.IsValidReceived(code)) return Fail(WebSocketCloseCodes.ProtocolError, written, out result);
            if (!Utf8.IsValid(payload[sizeof(ushort)..])) return Fail(WebSocketCloseCodes.InvalidPayloadData, written, out result);
        }
        _closeReceived = true;
        result = new DecodeResult(DecodeStatus.Close, written, code);
        return true;
    }

    /// <summary>Unmasks up to <paramref name="budget"/> payload bytes of the current frame into the sink.</summary>
    private int CopyPayload(ref SequenceReader<byte> reader, IBufferWriter<byte> sink, int budget)
    {
        int copied = 0;
        while (_payloadRemaining > 0 && copied < budget && !reader.End)
        {
            ReadOnlySpan<byte> source = reader.UnreadSpan;
            Span<byte> destination = sink.GetSpan();
            int count = (int)Math.Min(_payloadRemaining, Math.Min(budget - copied, Math.Min(source.Length, destination.Length)));
            _maskOffset = Masking.Apply(source[..count], destination, _maskKey, _maskOffset);
            sink.Advance(count);
            reader.Advance(count);
            _payloadRemaining -= count;
            copied += count;
        }
        return copied;
    }

    /// <summary>
    /// A violation that leaves the frame boundaries known: reported like any other (the frame stays in
    /// the buffer), then the decoder drains (see the remarks).
    /// </summary>
    private bool FailKeepingFraming(ushort code, int written, out DecodeResult result)
    {
        Fail(code, written, out result);
        _draining = true;
        return true;
    }

    /// <summary>The one failure path: the decoder refuses everything from now on.</summary>
    private bool Fail(ushort code, int written, out DecodeResult result)
    {
        _draining = false;
        _failureCode = code;
        _controlLength = 0;
        result = new DecodeResult(DecodeStatus.ProtocolError, written, code);
        return true;
    }
}
