using Mtt.Core.Transport;

namespace Mtt.Core.WebSockets;

/// <summary>
/// The framing of <see cref="WebSocketConnection.SendAsync{TPrefix}"/> for a gathering transport: each message a final
/// binary frame's header then <typeparamref name="TPrefix"/>, ahead of at most <see cref="MaxDataPerFrame"/> bytes of
/// data, as <c>WriteMessages</c> lays them out in the transport's buffer otherwise.
/// </summary>
internal readonly struct BinaryMessageHeaders<TPrefix>(TPrefix prefix, int maxDataPerMessage) : IFrameHeaders
    where TPrefix : struct, IMessagePrefix
{
    public int MaxDataPerFrame => maxDataPerMessage;

    public int HeaderLength(int dataLength) => FrameWriter.HeaderLength(prefix.Length + dataLength) + prefix.Length;

    public void WriteHeader(Span<byte> destination, int dataLength)
    {
        int frameHeader = FrameWriter.WriteHeader(destination, WebSocketOpcode.Binary, fin: true, prefix.Length + dataLength);
        prefix.Write(destination[frameHeader..], dataLength);
    }
}
