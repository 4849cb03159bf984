using Mtt.Core.Mux;

namespace Mtt.Tests.Mux;

/// <summary>
/// What the parts an idle smux session keeps for its life cost to make, counted on this thread: a session is one
/// of thousands at rest, so a shared or dropped object in each is paid back thousands of times.
/// </summary>
public sealed class SmuxIdleFootprintTests
{
    private static long AllocatedBy<T>(Func<T> make)
    {
        // Once first, so loading and initialising the type is not counted.
        GC.KeepAlive(make());
        long before = GC.GetAllocatedBytesForCurrentThread();
        var made = make();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        GC.KeepAlive(made);
        return allocated;
    }

    /// <summary>A session keeps three signals and two per stream: each is one object, with no lock object of its own.</summary>
    [Fact]
    public void ASignal_IsOneObject()
    {
        long signal = AllocatedBy(() => new AsyncSignal());
        long lockObject = AllocatedBy(() => new Lock());
        Assert.True(signal < 96, $"a signal allocates {signal} B (a lock object alone: {lockObject} B)");
    }

    /// <summary>A stream's queue shares its pipe's options with every other stream's.</summary>
    [Fact]
    public void AStreamsQueue_SharesItsPipeOptions()
    {
        long input = AllocatedBy(() => new SmuxStreamInput());
        long options = AllocatedBy(() => new System.IO.Pipelines.PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false));
        long pipe = AllocatedBy(() => new System.IO.Pipelines.Pipe(System.IO.Pipelines.PipeOptions.Default));
        long lockObject = AllocatedBy(() => new Lock());
        // The queue is its own object, a pipe made on shared options, and its lock: a pipe's options of its own would add theirs.
        Assert.True(input < pipe + lockObject + 64 + options / 2, $"a stream's queue allocates {input} B (a pipe {pipe} B, options {options} B, a lock {lockObject} B)");
    }
}
