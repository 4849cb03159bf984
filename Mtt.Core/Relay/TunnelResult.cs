namespace Mtt.Core.Relay;

/// <summary>How a tunnel ended and what it carried.</summary>
public readonly record struct TunnelResult(TunnelEndReason Reason, long BytesFromClient, long BytesToClient);
