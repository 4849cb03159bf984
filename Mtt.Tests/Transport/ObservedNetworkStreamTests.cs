using System.Threading.Tasks.Sources;
using Mtt.Core.Transport;

namespace Mtt.Tests.Transport;

/// <summary>
/// The socket's stream hands each read's result on exactly once. A socket read that was pending is backed by
/// the socket's reusable source, whose result can be taken once; when such a read completed between the call
/// and the check (a busy machine makes that likely), the stream took the result and handed the same read on,
/// the pipe's await threw, and the tunnel or smux session ended as if its client had dropped: a bystander of
/// the fault tests lost its tunnel now and then. The race cannot be forced on a real socket, so these tests
/// hand the stream's check a read that is complete already and, like the socket's, refuses a second take.
/// </summary>
public sealed class ObservedNetworkStreamTests
{
    /// <summary>Like the socket's awaitable read, completed before anyone looked: its result can be taken once.</summary>
    private sealed class SingleUseRead(int bytes) : IValueTaskSource<int>
    {
        public int Taken { get; private set; }

        public int GetResult(short token)
        {
            if (++Taken > 1) throw new InvalidOperationException("the read's result was taken already, and its source moved on");
            return bytes;
        }

        public ValueTaskSourceStatus GetStatus(short token) =>
            Taken == 0 ? ValueTaskSourceStatus.Succeeded : throw new InvalidOperationException("the read's source moved on");

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            throw new InvalidOperationException("the read is complete already");
    }

    [Fact]
    public async Task AReadThatCompletedJustAfterItWasIssued_GivesItsBytesOnce()
    {
        var record = new ShutdownRecord();
        var read = new SingleUseRead(1400);

        int received = await ObservedNetworkStream.Observe(new ValueTask<int>(read, 0), 64 * 1024, record);

        Assert.Equal(1400, received);
        Assert.Equal(1, read.Taken);
        Assert.Equal(TransportShutdownKind.None, record.Kind);
    }

    [Fact]
    public async Task AnEndOfStreamThatCompletedJustAfterTheRead_IsRecordedAsPeerClosed_AndGivenOnce()
    {
        var record = new ShutdownRecord();
        var read = new SingleUseRead(0);

        int received = await ObservedNetworkStream.Observe(new ValueTask<int>(read, 0), 64 * 1024, record);

        Assert.Equal(0, received);
        Assert.Equal(1, read.Taken);
        Assert.Equal(TransportShutdownKind.PeerClosed, record.Kind);
    }

    [Fact]
    public async Task AZeroByteReadThatCompletedJustAfter_IsNotAnEnd()
    {
        var record = new ShutdownRecord();
        var read = new SingleUseRead(0);

        int received = await ObservedNetworkStream.Observe(new ValueTask<int>(read, 0), 0, record);

        Assert.Equal(0, received);
        Assert.Equal(1, read.Taken);
        Assert.Equal(TransportShutdownKind.None, record.Kind);
    }
}
