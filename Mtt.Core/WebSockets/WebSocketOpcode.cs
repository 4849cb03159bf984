namespace Mtt.Core.WebSockets;

/// <summary>Frame opcodes (RFC 6455 section 5.2); 3-7 and 11-15 are reserved.</summary>
public enum WebSocketOpcode : byte
{
    Continuation = 0,
    Text = 1,
    Binary = 2,
    Close = 8,
    Ping = 9,
    Pong = 10,
}
