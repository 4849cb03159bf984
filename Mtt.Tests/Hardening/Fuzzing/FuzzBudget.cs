namespace Mtt.Tests.Hardening.Fuzzing;

/// <summary>
/// How long each parser is fuzzed. CI runs the fixed defaults (all parsers together in well under
/// 30 s); <c>MTT_FUZZ_ITERATIONS=1000000</c> runs that many per parser on demand, and
/// <c>MTT_FUZZ_SEED</c> picks another fixed seed (a failure names the seed and iteration to replay).
/// </summary>
public static class FuzzBudget
{
    public const string IterationsVariable = "MTT_FUZZ_ITERATIONS";
    public const string SeedVariable = "MTT_FUZZ_SEED";

    /// <summary>The CI seed: fixed, so a red run is red again on the same commit.</summary>
    public const int DefaultSeed = 20261125;

    /// <summary>Any single parser call taking this long is a hang in the making (calls take microseconds).</summary>
    public static readonly TimeSpan MaxCallTime = TimeSpan.FromSeconds(1);

    /// <summary>What one call may allocate: small and fixed, whatever length the input claims.</summary>
    public const long MaxAllocatedBytesPerCall = 64 * 1024;

    public static int Seed => int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), out int seed) ? seed : DefaultSeed;

    public static int Iterations(int ciDefault) =>
        int.TryParse(Environment.GetEnvironmentVariable(IterationsVariable), out int iterations) && iterations > 0 ? iterations : ciDefault;

    /// <summary>The whole run's wall-clock bound: generous per iteration, so only a hang trips it.</summary>
    public static TimeSpan RunTimeout(int iterations) => TimeSpan.FromSeconds(60) + TimeSpan.FromMilliseconds(iterations * 2.0);
}
