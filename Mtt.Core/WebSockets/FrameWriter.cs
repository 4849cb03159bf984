using System.Buffers;
using System.Buffers.Binary;
using static Mtt.Core.WebSockets.FrameHeaderLayout;

namespace Mtt.Core.WebSockets;

/// <summary>Writes server frames (RFC 6455 section 5.2): never masked (section 5.1), no RSV bits.</summary>
public static class FrameWriter
{
    public const int MaxHeaderLength = MaxServerHeaderBytes;

    // A close frame we send carries the 2-byte code and no reason (section 5.5.1).
    private const int CloseBodyBytes = 2;

    /// <summary>Writes a header with the shortest length encoding; returns the bytes written (2, 4 or 10).</summary>
    public static int WriteHeader(Span<byte> destination, WebSocketOpcode opcode, bool fin, long payloadLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        int headerLength = HeaderLength(payloadLength);
        if (destination.Length < headerLength)
            throw new ArgumentException($"A {headerLength}-byte header does not fit in {destination.Length} bytes.", nameof(destination));

        destination[0] = (byte)((fin ? FinBit : 0) | ((byte)opcode & OpcodeBits));
        if (payloadLength <= MaxLength7)
        {
            destination[1] = (byte)payloadLength;
        }
        else if (payloadLength <= ushort.MaxValue)
        {
            destination[1] = Length16Marker;
            BinaryPrimitives.WriteUInt16BigEndian(destination[MinHeaderBytes..], (ushort)payloadLength);
        }
        else
        {
            destination[1] = Length64Marker;
            BinaryPrimitives.WriteInt64BigEndian(destination[MinHeaderBytes..], payloadLength);
        }
        return headerLength;
    }

    /// <summary>A close frame whose body is <paramref name="code"/> alone.</summary>
    public static void WriteClose(IBufferWriter<byte> output, ushort code)
    {
        ArgumentNullException.ThrowIfNull(output);
        Span<byte> span = output.GetSpan(MinHeaderBytes + CloseBodyBytes);
        int header = WriteHeader(span, WebSocketOpcode.Close, fin: true, CloseBodyBytes);
        BinaryPrimitives.WriteUInt16BigEndian(span[header..], code);
        output.Advance(header + CloseBodyBytes);
    }

    /// <summary>A pong echoing a ping's payload (section 5.5.3), at most 125 bytes.</summary>
    public static void WritePong(IBufferWriter<byte> output, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (payload.Length > MaxControlPayload)
            throw new ArgumentOutOfRangeException(nameof(payload), payload.Length, "A control frame carries at most 125 bytes.");
        WriteFrame(output, WebSocketOpcode.Pong, payload);
    }

    /// <summary>One final binary frame, header and payload in one span of <paramref name="output"/>.</summary>
    public static void WriteBinary(IBufferWriter<byte> output, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(output);
        WriteFrame(output, WebSocketOpcode.Binary, payload);
    }

    private static void WriteFrame(IBufferWriter<byte> output, WebSocketOpcode opcode, ReadOnlySpan<byte> payload)
    {
        int total = HeaderLength(payload.Length) + payload.Length;
        Span<byte> span = output.GetSpan(total);
        int header = WriteHeader(span, opcode, fin: true, payload.Length);
        payload.CopyTo(span[header..]);
        output.Advance(total);
    }

    /// <summary>The bytes of the shortest header for <paramref name="payloadLength"/> (2, 4 or 10).</summary>
    public static int HeaderLength(long payloadLength) =>
        payloadLength <= MaxLength7 ? MinHeaderBytes
        : payloadLength <= ushort.MaxValue ? MinHeaderBytes + Length16Bytes
        : MinHeaderBytes + Length64Bytes;
}
