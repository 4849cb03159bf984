namespace Mtt.Tests.Relay;

/// <summary>
/// Tests that count the process's allocations (every thread: the relay hops between thread-pool threads)
/// run alone, after the parallel ones, so no other test's allocations are counted with theirs.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationMeasurement
{
    public const string Name = "allocation measurement";
}
