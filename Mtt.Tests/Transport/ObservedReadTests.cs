using System.Threading.Tasks.Sources;
using Mtt.Core.Transport;

namespace Mtt.Tests.Transport;

/// <summary>
/// A socket read that completes on another thread just after it was issued reaches the caller exactly once.
/// The socket's read is then backed by the socket's one reusable awaitable, released by its first GetResult;
/// a second use fails (or sees the next read). On a real socket that window is microseconds wide and only a
/// loaded machine hits it (it cut 1 tunnel in ~6 fault-test runs), so the completed read is stood in for by a
/// source that behaves as the socket's does once released.
/// </summary>
public sealed class ObservedReadTests
{
    /// <summary>A completed read whose result can be taken once; after that, every use throws, as the socket's awaitable does.</summary>
    private sealed class OneShotRead(int result) : IValueTaskSource<int>
    {
        private bool _consumed;

        public int Uses { get; private set; }

        public int GetResult(short token)
        {
            Uses++;
            Released();
            _consumed = true;
            return result;
        }

        public ValueTaskSourceStatus GetStatus(short token)
        {
            Released();
            return ValueTaskSourceStatus.Succeeded;
        }

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            throw new InvalidOperationException("a completed read is never waited on");

        private void Released()
        {
            if (_consumed) throw new InvalidOperationException("the read's result was consumed already and the awaitable released");
        }
    }

    [Fact]
    public async Task AReadThatCompletedJustAfterItWasIssued_IsConsumedOnce_AndTheCallerGetsItsCount()
    {
        var source = new OneShotRead(5);
        var record = new ShutdownRecord();

        int received = await ObservedNetworkStream.Observe(new ValueTask<int>(source, 0), requested: 16, record);

        Assert.Equal(5, received);
        Assert.Equal(1, source.Uses);
        Assert.Equal(TransportShutdownKind.None, record.Kind);
    }

    [Fact]
    public async Task AnEndThatCompletedJustAfterItWasIssued_IsConsumedOnce_AndRecordedAsThePeersClose()
    {
        var source = new OneShotRead(0);
        var record = new ShutdownRecord();

        Assert.Equal(0, await ObservedNetworkStream.Observe(new ValueTask<int>(source, 0), requested: 16, record));

        Assert.Equal(1, source.Uses);
        Assert.Equal(TransportShutdownKind.PeerClosed, record.Kind);
    }

    [Fact]
    public async Task AZeroByteReadThatCompletedJustAfterItWasIssued_IsConsumedOnce_AndIsNoEnd()
    {
        var source = new OneShotRead(0);
        var record = new ShutdownRecord();

        Assert.Equal(0, await ObservedNetworkStream.Observe(new ValueTask<int>(source, 0), requested: 0, record));

        Assert.Equal(1, source.Uses);
        Assert.Equal(TransportShutdownKind.None, record.Kind);
    }
}
