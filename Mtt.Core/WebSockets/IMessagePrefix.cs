namespace Mtt.Core.WebSockets;

/// <summary>
/// Bytes written at the start of each binary message's payload, ahead of the data it carries (a
/// multiplexer's frame header), so a layer above can frame its data without copying it first.
/// Implemented by structs, so <see cref="WebSocketConnection.SendAsync{TPrefix}"/> is compiled per prefix.
/// </summary>
public interface IMessagePrefix
{
    /// <summary>The prefix's bytes in every message.</summary>
    int Length { get; }

    /// <summary>Writes the prefix of a message carrying <paramref name="dataLength"/> bytes of data after it.</summary>
    void Write(Span<byte> destination, int dataLength);
}
