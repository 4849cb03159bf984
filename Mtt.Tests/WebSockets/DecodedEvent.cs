using Mtt.Core.WebSockets;

namespace Mtt.Tests.WebSockets;

/// <summary>What a decoder reported for one complete control frame or error.</summary>
public sealed record DecodedEvent(DecodeStatus Status, ushort CloseCode, byte[] ControlPayload);
