namespace Mtt.Benchmarks.Load;

/// <summary>What an echo over some channels did: bytes each way, wall time, and whether every byte came back as sent.</summary>
internal sealed record EchoOutcome(long Bytes, double Seconds, bool Exact, string? Fault);
