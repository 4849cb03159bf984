namespace Mtt.Core.WebSockets;

/// <summary>Why <see cref="WebSocketConnection.ReceiveAsync"/> returned.</summary>
public enum ReceiveStatus
{
    /// <summary>Payload bytes were written to the sink; more may follow.</summary>
    Data,

    /// <summary>The client sent a close frame; ours has been sent in answer (or was sent before).</summary>
    Closed,

    /// <summary>The client's connection ended without a close frame: a normal end for these clients.</summary>
    Ended,

    /// <summary>The client broke RFC 6455; a close frame with the code in <see cref="ReceiveResult.CloseCode"/> was sent.</summary>
    ProtocolError,
}
