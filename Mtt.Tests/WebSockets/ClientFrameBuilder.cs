using System.Buffers.Binary;
using System.Text;
using Mtt.Core.WebSockets;

namespace Mtt.Tests.WebSockets;

/// <summary>
/// Builds the frames a client sends (RFC 6455 section 5.2), masked by default, including broken ones:
/// any opcode, RSV bits, unmasked, a forced length encoding, or a declared length that does not
/// match the payload. Independent of the code under test: it writes bits by hand.
/// </summary>
public static class ClientFrameBuilder
{
    public const int DefaultMaskKey = 0x5A3C_9E71;

    public enum LengthEncoding { Shortest, Bits16, Bits64 }

    /// <summary>A whole frame: header, then the payload masked with <paramref name="maskKey"/>.</summary>
    public static byte[] Frame(
        int opcode, ReadOnlySpan<byte> payload, bool fin = true, bool masked = true, int rsvBits = 0,
        LengthEncoding encoding = LengthEncoding.Shortest, int maskKey = DefaultMaskKey)
    {
        byte[] header = Header(opcode, payload.Length, fin, masked, rsvBits, encoding, maskKey);
        var frame = new byte[header.Length + payload.Length];
        header.CopyTo(frame, 0);
        for (int i = 0; i < payload.Length; i++)
            frame[header.Length + i] = masked ? (byte)(payload[i] ^ KeyByte(maskKey, i)) : payload[i];
        return frame;
    }

    /// <summary>Only the header, declaring <paramref name="declaredLength"/> payload bytes.</summary>
    public static byte[] Header(
        int opcode, long declaredLength, bool fin = true, bool masked = true, int rsvBits = 0,
        LengthEncoding encoding = LengthEncoding.Shortest, int maskKey = DefaultMaskKey)
    {
        if (encoding == LengthEncoding.Shortest)
            encoding = declaredLength is >= 0 and <= 125 ? LengthEncoding.Shortest
                : declaredLength is > 125 and <= ushort.MaxValue ? LengthEncoding.Bits16
                : LengthEncoding.Bits64;

        var header = new List<byte>(14)
        {
            (byte)((fin ? 0x80 : 0) | ((rsvBits & 7) << 4) | (opcode & 0x0F)),
        };
        byte maskBit = masked ? (byte)0x80 : (byte)0;
        switch (encoding)
        {
            case LengthEncoding.Shortest:
                header.Add((byte)(maskBit | declaredLength));
                break;
            case LengthEncoding.Bits16:
                header.Add((byte)(maskBit | 126));
                header.Add((byte)(declaredLength >> 8));
                header.Add((byte)declaredLength);
                break;
            default:
                header.Add((byte)(maskBit | 127));
                for (int shift = 56; shift >= 0; shift -= 8) header.Add((byte)(declaredLength >> shift));
                break;
        }
        if (masked)
            for (int i = 0; i < 4; i++) header.Add(KeyByte(maskKey, i));
        return header.ToArray();
    }

    public static byte[] Binary(ReadOnlySpan<byte> payload, bool fin = true, int maskKey = DefaultMaskKey) =>
        Frame((int)WebSocketOpcode.Binary, payload, fin, maskKey: maskKey);

    public static byte[] Continuation(ReadOnlySpan<byte> payload, bool fin = true, int maskKey = DefaultMaskKey) =>
        Frame((int)WebSocketOpcode.Continuation, payload, fin, maskKey: maskKey);

    public static byte[] Ping(ReadOnlySpan<byte> payload) => Frame((int)WebSocketOpcode.Ping, payload);

    public static byte[] Pong(ReadOnlySpan<byte> payload) => Frame((int)WebSocketOpcode.Pong, payload);

    /// <summary>A close frame with a code and a UTF-8 reason.</summary>
    public static byte[] Close(ushort code, string reason = "") => CloseRaw(code, Encoding.UTF8.GetBytes(reason));

    /// <summary>A close frame with a code and raw reason bytes (which may be invalid UTF-8).</summary>
    public static byte[] CloseRaw(ushort code, ReadOnlySpan<byte> reason)
    {
        var body = new byte[2 + reason.Length];
        BinaryPrimitives.WriteUInt16BigEndian(body, code);
        reason.CopyTo(body.AsSpan(2));
        return Frame((int)WebSocketOpcode.Close, body);
    }

    public static byte[] Concat(params byte[][] frames)
    {
        int total = 0;
        foreach (byte[] frame in frames) total += frame.Length;
        var all = new byte[total];
        int at = 0;
        foreach (byte[] frame in frames)
        {
            frame.CopyTo(all, at);
            at += frame.Length;
        }
        return all;
    }

    /// <summary>Byte <paramref name="index"/> of the key as it appears on the wire.</summary>
    public static byte KeyByte(int maskKey, int index) => (byte)((uint)maskKey >> ((index & 3) * 8));
}
