using System.Buffers.Binary;

namespace Mtt.Core.Mux;

/// <summary>
/// Splits the smux byte stream into frames (docs/protocol.md §4.1-4.2), without I/O: bytes in, one step's result
/// and the count consumed out. PSH data is handed out in whatever pieces the input holds, so a frame
/// never has to be buffered whole and a caller can take less than is there (flow control) by passing
/// a shorter input. The session's version is the first frame's; every later frame must carry it.
/// </summary>
public struct SmuxFrameParser
{
    private byte _version;
    private int _dataRemaining;
    private uint _dataStreamId;
    private SmuxProtocolError _error;

    /// <summary>1 or 2 once the first frame was read; 0 before.</summary>
    public readonly byte Version => _version;

    /// <summary>PSH data bytes still to come for <see cref="DataStreamId"/>.</summary>
    public readonly int DataRemaining => _dataRemaining;

    /// <summary>The stream the pending PSH data belongs to (meaningful while <see cref="DataRemaining"/> &gt; 0).</summary>
    public readonly uint DataStreamId => _dataStreamId;

    public readonly SmuxProtocolError Error => _error;

    /// <summary>
    /// Parses one step from <paramref name="input"/>. <paramref name="header"/> is set for
    /// <see cref="SmuxParseStatus.Frame"/> (and carries the stream id for Data); a UPD's consumed count
    /// and window are returned in <paramref name="consumedCount"/> and <paramref name="window"/>.
    /// </summary>
    public SmuxParseStatus Parse(ReadOnlySpan<byte> input, out SmuxFrameHeader header, out int consumed, out uint consumedCount, out uint window)
    {
        header = default;
        consumed = 0;
        consumedCount = 0;
        window = 0;
        if (_error != SmuxProtocolError.None) return SmuxParseStatus.ProtocolError;

        if (_dataRemaining > 0)
        {
            if (input.IsEmpty) return SmuxParseStatus.NeedMoreData;
            consumed = Math.Min(_dataRemaining, input.Length);
            _dataRemaining -= consumed;
            header = new SmuxFrameHeader(_version, SmuxCommand.Psh, (ushort)consumed, _dataStreamId);
            return SmuxParseStatus.Data;
        }

        if (input.Length < SmuxFrameHeader.Size) return SmuxParseStatus.NeedMoreData;
        var read = SmuxFrameHeader.Read(input);

        if (_version == 0)
        {
            if (read.Version is not (SmuxFrameHeader.Version1 or SmuxFrameHeader.Version2)) return Fail(SmuxProtocolError.UnsupportedVersion);
        }
        else if (read.Version != _version)
        {
            return Fail(SmuxProtocolError.VersionChanged);
        }

        switch (read.Command)
        {
            case SmuxCommand.Syn or SmuxCommand.Fin or SmuxCommand.Nop:
                // xtaci/smux never sends data with these and never skips any: a length here would desynchronise it.
                if (read.Length != 0) return Fail(SmuxProtocolError.InvalidLength);
                consumed = SmuxFrameHeader.Size;
                break;

            case SmuxCommand.Psh:
                consumed = SmuxFrameHeader.Size;
                _dataRemaining = read.Length;
                _dataStreamId = read.StreamId;
                break;

            case SmuxCommand.Upd:
                if (read.Version != SmuxFrameHeader.Version2) return Fail(SmuxProtocolError.UnknownCommand);
                if (read.Length != SmuxFrameHeader.UpdateDataLength) return Fail(SmuxProtocolError.InvalidLength);
                if (input.Length < SmuxFrameHeader.Size + SmuxFrameHeader.UpdateDataLength) return SmuxParseStatus.NeedMoreData;
                consumedCount = BinaryPrimitives.ReadUInt32LittleEndian(input[SmuxFrameHeader.Size..]);
                window = BinaryPrimitives.ReadUInt32LittleEndian(input[(SmuxFrameHeader.Size + 4)..]);
                consumed = SmuxFrameHeader.Size + SmuxFrameHeader.UpdateDataLength;
                break;

            default:
                return Fail(SmuxProtocolError.UnknownCommand);
        }

        _version = read.Version;
        header = read;
        return SmuxParseStatus.Frame;
    }

    private SmuxParseStatus Fail(SmuxProtocolError error)
    {
        _error = error;
        return SmuxParseStatus.ProtocolError;
    }
}
