namespace Mtt.Core.WebSockets;

/// <summary>
/// The bit layout of a frame header (RFC 6455 section 5.2); the only place that knows it, shared by
/// <see cref="FrameWriter"/> and <see cref="FrameDecoder"/>.
/// </summary>
internal static class FrameHeaderLayout
{
    // Byte 0.
    public const byte FinBit = 0x80;
    public const byte ReservedBits = 0x70;   // RSV1-3: no extension is ever negotiated
    public const byte OpcodeBits = 0x0F;
    public const byte ControlOpcodeBit = 0x08; // opcodes 8-15 are control frames (section 5.5)

    // Byte 1.
    public const byte MaskBit = 0x80;
    public const byte LengthBits = 0x7F;

    // The 7-bit length field: up to 125 is the length itself; these two announce a longer field.
    public const int Length16Marker = 126;
    public const int Length64Marker = 127;
    public const int MaxLength7 = 125;
    public const int Length16Bytes = 2;
    public const int Length64Bytes = 8;

    public const int MaskKeyBytes = 4;
    public const int MinHeaderBytes = 2;

    // Control frames carry at most 125 bytes so that they always fit the 7-bit length (section 5.5).
    public const int MaxControlPayload = 125;

    // 2 fixed bytes + 8-byte length + 4-byte mask key: the longest header a client can send.
    public const int MaxClientHeaderBytes = MinHeaderBytes + Length64Bytes + MaskKeyBytes;

    // Server frames are never masked (section 5.1), so their longest header has no key.
    public const int MaxServerHeaderBytes = MinHeaderBytes + Length64Bytes;

    public static bool IsControl(WebSocketOpcode opcode) => ((byte)opcode & ControlOpcodeBit) != 0;

    /// <summary>Bytes of extended length that follow byte 1 for a given 7-bit length field.</summary>
    public static int ExtendedLengthBytes(int length7) => length7 switch
    {
        Length16Marker => Length16Bytes,
        Length64Marker => Length64Bytes,
        _ => 0,
    };
}
