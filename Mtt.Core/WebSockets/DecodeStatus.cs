namespace Mtt.Core.WebSockets;

/// <summary>Why <see cref="FrameDecoder.Decode"/> stopped.</summary>
public enum DecodeStatus
{
    /// <summary>The buffer is used up; a partial header or control frame is left in it.</summary>
    NeedMoreData,

    /// <summary>The call wrote its payload budget to the sink; flush, then call again.</summary>
    SinkLimitReached,

    /// <summary>A complete ping; its payload is in <see cref="FrameDecoder.ControlPayload"/>.</summary>
    Ping,

    /// <summary>A complete pong; its payload is in <see cref="FrameDecoder.ControlPayload"/>.</summary>
    Pong,

    /// <summary>A complete, valid close frame; the code is in <see cref="DecodeResult.CloseCode"/>.</summary>
    Close,

    /// <summary>The peer broke the protocol; close with <see cref="DecodeResult.CloseCode"/>.</summary>
    ProtocolError,
}
