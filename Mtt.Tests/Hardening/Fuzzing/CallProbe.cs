using System.Diagnostics;

namespace Mtt.Tests.Hardening.Fuzzing;

/// <summary>Brackets one parser call: fails when it took longer than <see cref="FuzzBudget.MaxCallTime"/> or allocated more than <see cref="FuzzBudget.MaxAllocatedBytesPerCall"/>.</summary>
public sealed class CallProbe
{
    private long _startedAt;
    private long _allocatedBefore;

    /// <summary>Off while warming up: first calls run static constructors and fill caches.</summary>
    public bool Checking { get; set; } = true;

    public long Calls { get; private set; }

    public long MaxAllocated { get; private set; }

    public void Begin()
    {
        _allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        _startedAt = Stopwatch.GetTimestamp();
    }

    public void End()
    {
        var elapsed = Stopwatch.GetElapsedTime(_startedAt);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - _allocatedBefore;
        Calls++;
        if (!Checking) return;
        if (allocated > MaxAllocated) MaxAllocated = allocated;
        if (elapsed > FuzzBudget.MaxCallTime) throw new FuzzBoundException($"one call took {elapsed.TotalMilliseconds:0} ms");
        if (allocated > FuzzBudget.MaxAllocatedBytesPerCall) throw new FuzzBoundException($"one call allocated {allocated} bytes");
    }
}
