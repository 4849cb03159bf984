using System.Buffers.Binary;

namespace Mtt.Core.Mux;

/// <summary>
/// The 8-byte smux frame header (docs/protocol.md §4.1): version, command, data length (little-endian 16 bits)
/// and stream id (little-endian 32 bits). The one place that knows the layout.
/// </summary>
public readonly record struct SmuxFrameHeader(byte Version, SmuxCommand Command, ushort Length, uint StreamId)
{
    public const int Size = 8;

    /// <summary>UPD data: the consumed count then the window, 4 bytes each.</summary>
    public const int UpdateDataLength = 8;

    public const byte Version1 = 1;
    public const byte Version2 = 2;

    /// <summary>Reads a header from the first <see cref="Size"/> bytes of <paramref name="source"/>, which must hold them.</summary>
    public static SmuxFrameHeader Read(ReadOnlySpan<byte> source) => new(
        source[0],
        (SmuxCommand)source[1],
        BinaryPrimitives.ReadUInt16LittleEndian(source[2..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[4..]));

    /// <summary>Writes this header into the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        destination[0] = Version;
        destination[1] = (byte)Command;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], StreamId);
    }

    /// <summary>Writes a UPD frame (header and its 8 data bytes) into <paramref name="destination"/>.</summary>
    public static void WriteUpdate(Span<byte> destination, byte version, uint streamId, uint consumed, uint window)
    {
        new SmuxFrameHeader(version, SmuxCommand.Upd, UpdateDataLength, streamId).Write(destination);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[Size..], consumed);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[(Size + 4)..], window);
    }
}
