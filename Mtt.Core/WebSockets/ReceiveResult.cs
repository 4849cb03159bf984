namespace Mtt.Core.WebSockets;

/// <summary>What one <see cref="WebSocketConnection.ReceiveAsync"/> call produced.</summary>
public readonly record struct ReceiveResult(ReceiveStatus Status, int Bytes, ushort CloseCode);
