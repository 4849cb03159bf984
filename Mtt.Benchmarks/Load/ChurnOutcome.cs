namespace Mtt.Benchmarks.Load;

/// <summary>What a churn of connections came to; connection times in Stopwatch ticks, sorted, one per completed connection recorded.</summary>
internal sealed record ChurnOutcome(int Completed, int Failed, string? FirstFault, double Seconds, long[] ConnectionTicks);
