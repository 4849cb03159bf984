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

    /// <summary>A session's registry of streams is itself and its dictionary: the dictionary is its lock.</summary>
    [Fact]
    public void ASessionsRegistry_HasNoLockObjectOfItsOwn()
    {
        long registry = AllocatedBy(() => new SmuxStreamRegistry(16));
        long dictionary = AllocatedBy(() => new Dictionary<uint, SmuxStream>());
        long lockObject = AllocatedBy(() => new Lock());
        Assert.True(registry < dictionary + lockObject, $"a registry allocates {registry} B (its dictionary {dictionary} B, a lock {lockObject} B)");
    }

    /// <summary>A session's sender is itself, its two queues, its signal and its control frame's buffer: its queue of ready streams is its lock.</summary>
    [Fact]
    public void ASessionsSender_HasNoLockObjectOfItsOwn()
    {
        var client = new Mtt.Core.WebSockets.WebSocketConnection(new System.IO.Pipelines.Pipe().Reader, new System.IO.Pipelines.Pipe().Writer);
        var lifetime = new Mtt.Core.Relay.TunnelLifetime<SmuxEndReason>(TimeProvider.System, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(2),
            SmuxEndReason.IdleTimeout, SmuxEndReason.ClientStalled);
        long sender = AllocatedBy(() => new SmuxFrameSender(client, lifetime));
        long parts = AllocatedBy(() => new Queue<SmuxStream>()) * 2 + AllocatedBy(() => new AsyncSignal())
            + AllocatedBy(() => new byte[SmuxFrameHeader.Size + SmuxFrameHeader.UpdateDataLength]);
        // Its own object: a header and its fields (six references and three bytes), no lock object.
        long own = sender - parts;
        Assert.True(own <= 80, $"a sender allocates {own} B beside its parts ({parts} B)");
        lifetime.Dispose();
    }
}
