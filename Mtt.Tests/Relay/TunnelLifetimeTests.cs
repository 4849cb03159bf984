using Microsoft.Extensions.Time.Testing;
using Mtt.Core.Relay;
using Mtt.Tests.Support;

namespace Mtt.Tests.Relay;

/// <summary>A tunnel's lifetime on a fake clock: the one timer an idle tunnel keeps, and the grace a write to the client gets once it stops.</summary>
public sealed class TunnelLifetimeTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(2);

    private static TunnelLifetime<TunnelEndReason> Started(FakeTimeProvider time)
    {
        var lifetime = new TunnelLifetime<TunnelEndReason>(time, TimeSpan.FromMinutes(1), Grace, TunnelEndReason.IdleTimeout, TunnelEndReason.ClientStalled);
        lifetime.Start(CancellationToken.None, TunnelEndReason.ServerStopping, CancellationToken.None, TunnelEndReason.UserRemoved);
        return lifetime;
    }

    [Fact]
    public async Task WhileItRuns_ItsWatchdogIsItsOneTimer_AndTheGraceGetsOneWhenItStops()
    {
        var time = new TimerCensusClock();
        var lifetime = Started(time);
        Assert.Equal(1, time.TimersMade);

        lifetime.Stop(TunnelEndReason.ClientClosed);
        Assert.Equal(2, time.TimersMade);
        await lifetime.StopWatchingAsync();
        lifetime.Dispose();
    }

    [Fact]
    public async Task AWriteToTheClient_IsCutTheGraceAfterTheFirstStop_NotLater()
    {
        var time = new FakeTimeProvider();
        var lifetime = Started(time);

        lifetime.Stop(TunnelEndReason.ClientClosed);
        Assert.True(lifetime.Stopping.IsCancellationRequested);
        Assert.False(lifetime.ClientWrites.IsCancellationRequested);
        time.Advance(Grace / 2);
        // The tunnel's own run stops the loops again on its way out: that does not give the write more time.
        lifetime.StopLoops();
        time.Advance(Grace / 2 - TimeSpan.FromMilliseconds(1));
        Assert.False(lifetime.ClientWrites.IsCancellationRequested, "cut before the grace was over");
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(lifetime.ClientWrites.IsCancellationRequested, "not cut once the grace was over");
        Assert.Equal(TunnelEndReason.ClientClosed, lifetime.EndReason);

        await lifetime.StopWatchingAsync();
        lifetime.Dispose();
    }

    [Fact]
    public async Task AStalledClient_IsCutAtOnce_WithNoGrace()
    {
        var time = new FakeTimeProvider();
        var lifetime = Started(time);
        lifetime.ClientWriteStarted();
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(lifetime.ClientWrites.IsCancellationRequested);
        Assert.Equal(TunnelEndReason.ClientStalled, lifetime.EndReason);
        await lifetime.StopWatchingAsync();
        lifetime.Dispose();
    }

    [Fact]
    public async Task DisposedBeforeTheGraceIsOver_TheGraceTimerFiresNoMore()
    {
        var time = new FakeTimeProvider();
        var lifetime = Started(time);
        lifetime.Stop(TunnelEndReason.ClientClosed);
        await lifetime.StopWatchingAsync();
        lifetime.Dispose();
        // A callback on the disposed source would throw on the clock's thread.
        time.Advance(Grace * 2);
        lifetime.StopLoops();
        time.Advance(Grace * 2);
    }
}
