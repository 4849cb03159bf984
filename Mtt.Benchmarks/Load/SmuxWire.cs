using System.Buffers.Binary;

namespace Mtt.Benchmarks.Load;

/// <summary>The xtaci/smux frame (docs/protocol.md §4.1) as the harness's client writes and reads it: an 8-byte header, then data.</summary>
internal static class SmuxWire
{
    public const int HeaderSize = 8;

    public const byte Syn = 0, Fin = 1, Psh = 2, Nop = 3, Upd = 4;

    /// <summary>The largest data a frame can carry (a 16-bit length).</summary>
    public const int MaxFrameLength = ushort.MaxValue;

    /// <summary>Data per PSH the client writes: 16 KiB, as mtt-client and xtaci/smux's default MaxFrameSize.</summary>
    public const int ClientFrameData = 16 * 1024;

    /// <summary>Version 2: the window each side grants per stream, and assumes of the other until its first UPD (xtaci/smux initialPeerWindow).</summary>
    public const int Window = 256 * 1024;

    /// <summary>xtaci/smux's first stream id from a client; later ones go up by 2 (odd ids are the client's).</summary>
    public const uint FirstClientStreamId = 3;

    public static void WriteHeader(Span<byte> destination, byte version, byte command, int length, uint streamId)
    {
        destination[0] = version;
        destination[1] = command;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], (ushort)length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], streamId);
    }
}
