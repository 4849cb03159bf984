namespace Mtt.Tests.WebSockets;

/// <summary>Everything a decoder produced from a wire: the payload stream and the stops in order.</summary>
public sealed record DecodeTranscript(byte[] Payload, IReadOnlyList<DecodedEvent> Events, int Consumed);
