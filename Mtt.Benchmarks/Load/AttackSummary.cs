namespace Mtt.Benchmarks.Load;

/// <summary>`load attack` over all runs: fresh-client handshake percentiles quiet and under attack, and their ratios.</summary>
internal sealed record AttackSummary(
    int Samples,
    double QuietP50,
    double QuietP99,
    double AttackP50,
    double AttackP99,
    int AttackFailed,
    int SilentConnections,
    int DrippingConnections,
    int PerAddress);
