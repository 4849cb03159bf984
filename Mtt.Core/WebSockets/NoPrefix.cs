namespace Mtt.Core.WebSockets;

/// <summary>Messages that are the data alone.</summary>
public readonly struct NoPrefix : IMessagePrefix
{
    public int Length => 0;

    public void Write(Span<byte> destination, int dataLength)
    {
    }
}
