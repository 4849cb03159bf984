using System.Net;
using Microsoft.Extensions.Time.Testing;
using Mtt.Core.Listening;
using Mtt.Core.Routing;
using Mtt.Daemon.Systemd;
using Mtt.Tests.Support;

namespace Mtt.Tests.Daemon;

/// <summary>
/// The systemd watchdog pings only while the tunnel listener's accept loop takes connections: a wedged loop stops
/// the pings (so systemd restarts the service), and they resume when it accepts again. Driven by a fake clock.
/// </summary>
public sealed class ServiceWatchdogTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task WedgedAcceptLoop_StopsTheWatchdog_AndAnAcceptingOneResumesIt()
    {
        using var notify = FakeNotifySocket.AtPath(receive: false);
        var log = new WatchedLog();
        await using var listener = new TunnelListener(new TunnelServerOptions { Bind = new IPEndPoint(IPAddress.Loopback, 0) }, new RouteStore(), log.Log);
        listener.Start();
        using var systemd = SystemdNotifier.FromEnvironment(Environment(notify.Name, watchdogUsec: "20000000"), log.Log);
        var time = new FakeTimeProvider();
        using var stop = new CancellationTokenSource();
        var watchdog = new ServiceWatchdog(systemd, listener.Probe, () => "serving: test", time, log.Log);
        Assert.Equal(TimeSpan.FromSeconds(10), watchdog.Interval);
        var running = watchdog.RunAsync(stop.Token);

        Assert.Equal(["WATCHDOG=1", "STATUS=serving: test"], await FakeClock.AdvanceUntilAsync(time, notify.ReceiveNextAsync(), watchdog.Interval / 4));

        // The loop takes the next connection and then hangs, as a deadlocked accept loop would.
        var probeReached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var unwedge = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        listener.AcceptStall = () =>
        {
            probeReached.TrySetResult();
            return unwedge.Task;
        };
        try
        {
            // Pings that were on their way before the wedge may still arrive; from the failure on there are none.
            await FakeClock.AdvanceUntilAsync(time, probeReached.Task, watchdog.Interval / 4);
            await FakeClock.AdvanceUntilAsync(time, log.WaitForAsync("watchdog: a probe connection to the tunnel listener failed (not accepted within 10s)"), watchdog.Interval / 4);
            notify.ReadQueued();
            for (int i = 0; i < 3; i++) await Task.Run(() => time.Advance(watchdog.Interval));
            Assert.Empty(notify.ReadQueued());
        }
        finally
        {
            // Else disposing the listener would wait for its wedged loop forever.
            listener.AcceptStall = null;
            unwedge.TrySetResult();
        }
        Assert.Contains("WATCHDOG=1", await FakeClock.AdvanceUntilAsync(time, notify.ReceiveNextAsync(), watchdog.Interval / 4));
        await log.WaitForAsync("watchdog: the tunnel listener accepts again").WaitAsync(Bound);

        stop.Cancel();
        await running.WaitAsync(Bound);
    }

    [Fact]
    public async Task ProbeConnections_AreNotServedAsClients()
    {
        using var notify = FakeNotifySocket.AtPath(receive: false);
        var log = new WatchedLog();
        var metrics = new Mtt.Core.Diagnostics.ServerMetrics();
        await using var listener = new TunnelListener(new TunnelServerOptions { Bind = new IPEndPoint(IPAddress.IPv6Any, 0), MaxConnections = 1 }, new RouteStore(), log.Log, metrics);
        listener.Start();
        using var systemd = SystemdNotifier.FromEnvironment(Environment(notify.Name, watchdogUsec: "2000000"), log.Log);
        var time = new FakeTimeProvider();
        using var stop = new CancellationTokenSource();
        var running = new ServiceWatchdog(systemd, listener.Probe, () => "s", time, log.Log).RunAsync(stop.Token);

        for (int i = 0; i < 3; i++)
        {
            Assert.Contains("WATCHDOG=1", await FakeClock.AdvanceUntilAsync(time, notify.ReceiveNextAsync(), TimeSpan.FromMilliseconds(250)));
        }
        // A dual-stack listener sees the IPv4 probe; none of them took a place or was counted.
        Assert.Equal(0, listener.ActiveConnections);
        foreach (var reason in Enum.GetValues<Mtt.Core.Diagnostics.HandshakeRefusal>()) Assert.Equal(0, metrics.Refused(reason));
        Assert.Equal(0, metrics.TunnelsTotal);
        stop.Cancel();
        await running.WaitAsync(Bound);
    }

    [Fact]
    public void WatchdogForAnotherProcess_IsNotOurs()
    {
        using var notify = FakeNotifySocket.AtPath(receive: false);
        using var ours = SystemdNotifier.FromEnvironment(Environment(notify.Name, "4000000", System.Environment.ProcessId.ToString()), Mtt.Core.Diagnostics.ServerLog.Silent);
        using var theirs = SystemdNotifier.FromEnvironment(Environment(notify.Name, "4000000", "1"), Mtt.Core.Diagnostics.ServerLog.Silent);
        using var outside = SystemdNotifier.FromEnvironment(_ => null, Mtt.Core.Diagnostics.ServerLog.Silent);

        Assert.Equal(TimeSpan.FromSeconds(4), ours.WatchdogInterval);
        Assert.Null(theirs.WatchdogInterval);
        Assert.True(theirs.IsEnabled);
        Assert.False(outside.IsEnabled);
    }

    private static Func<string, string?> Environment(string socket, string? watchdogUsec = null, string? watchdogPid = null) => name => name switch
    {
        SystemdNotifier.SocketVariable => socket,
        SystemdNotifier.WatchdogIntervalVariable => watchdogUsec,
        SystemdNotifier.WatchdogPidVariable => watchdogPid,
        _ => null,
    };
}
