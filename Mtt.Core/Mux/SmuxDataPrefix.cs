using Mtt.Core.WebSockets;

namespace Mtt.Core.Mux;

/// <summary>
/// A PSH frame's header as the prefix of each WebSocket message the sender writes for one stream, so a
/// backend's bytes go from its read buffer straight into the client's transport buffer, framed on the way.
/// </summary>
internal readonly struct SmuxDataPrefix(byte version, uint streamId) : IMessagePrefix
{
    public int Length => SmuxFrameHeader.Size;

    public void Write(Span<byte> destination, int dataLength) =>
        new SmuxFrameHeader(version, SmuxCommand.Psh, checked((ushort)dataLength), streamId).Write(destination);
}
