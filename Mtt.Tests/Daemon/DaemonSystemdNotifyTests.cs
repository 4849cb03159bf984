using Mtt.Daemon.Systemd;
using Mtt.Tests.Support;

namespace Mtt.Tests.Daemon;

/// <summary>
/// The real daemon under a fake systemd: <c>NOTIFY_SOCKET</c> names a datagram socket the test owns, and the
/// daemon reports ready once it serves, proves it is alive, reports certificate reloads and its drain.
/// </summary>
public sealed class DaemonSystemdNotifyTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task UnderSystemd_ReadyStatusWatchdogStopping_InThatOrder()
    {
        using var notify = FakeNotifySocket.AtPath();
        using var directory = new TemporaryDirectory();
        string state = directory.Write("users.json", """{"version":1,"users":[{"path":"/a","dst":"127.0.0.1:9"},{"path":"/b","dst":"127.0.0.1:9"}]}""");
        // WatchdogSec=1s: a ping every 0.5 s.
        await using var daemon = DaemonProcess.Start(Systemd(notify, watchdogUsec: "1000000"), "-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-state", state);

        string ready = await notify.WaitForAsync("READY=1").WaitAsync(Bound);
        // READY comes once the listeners are bound: the ports are in the log by then.
        Assert.True(daemon.Ports.IsCompletedSuccessfully, "READY=1 before the listeners were bound");
        await notify.WaitForAsync("WATCHDOG=1").WaitAsync(Bound);
        await daemon.TerminateAsync();
        await notify.WaitForAsync("STOPPING=1").WaitAsync(Bound);
        Assert.Equal(0, await daemon.WaitForExitAsync(Bound));

        var lines = notify.Lines;
        int readyAt = IndexOf(lines, "READY=1"), statusAt = IndexOf(lines, "STATUS="), watchdogAt = IndexOf(lines, "WATCHDOG=1"), stoppingAt = IndexOf(lines, "STOPPING=1");
        Assert.True(readyAt < statusAt && statusAt < watchdogAt && watchdogAt < stoppingAt, string.Join(" | ", lines));
        // The users of the state file are loaded before READY.
        Assert.Equal("STATUS=serving: 0 tunnels open, 2 users", lines[statusAt]);
        Assert.Equal("READY=1", ready);
    }

    [Fact]
    public async Task AbstractNotifySocket_GetsReady()
    {
        using var notify = FakeNotifySocket.Abstract();
        await using var daemon = DaemonProcess.Start(Systemd(notify), "-b", "127.0.0.1:0", "-c", "127.0.0.1:0");

        await notify.WaitForAsync("READY=1").WaitAsync(Bound);
        await daemon.TerminateAsync();
        await notify.WaitForAsync("STOPPING=1").WaitAsync(Bound);
        Assert.Equal(0, await daemon.WaitForExitAsync(Bound));
    }

    [Fact]
    public async Task CertificateReload_IsReportedAsReloadingThenReady()
    {
        using var notify = FakeNotifySocket.AtPath();
        using var directory = new TemporaryDirectory();
        using var chain = TestCertificates.CreateChain();
        var files = TestCertificates.WriteFiles(directory.Path, chain, TestKeyFormat.Pkcs8Ec);
        await using var daemon = DaemonProcess.Start(Systemd(notify), "-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-cert", files.CertPath, "-key", files.KeyPath);
        await notify.WaitForAsync("READY=1").WaitAsync(Bound);
        int before = notify.Lines.Count;

        await daemon.SignalAsync("HUP");
        await notify.WaitForAsync("RELOADING=1", before).WaitAsync(Bound);
        await notify.WaitForAsync("READY=1", before).WaitAsync(Bound);

        var after = notify.Lines.Skip(before).ToList();
        int reloading = IndexOf(after, "RELOADING=1");
        Assert.StartsWith("MONOTONIC_USEC=", after[reloading + 1]);
        // CLOCK_MONOTONIC in microseconds, as systemd compares it: the test's own clock reads the same one.
        long usec = long.Parse(after[reloading + 1]["MONOTONIC_USEC=".Length..]);
        long now = (long)(System.Diagnostics.Stopwatch.GetTimestamp() * (1_000_000.0 / System.Diagnostics.Stopwatch.Frequency));
        Assert.InRange(now - usec, 0, (long)Bound.TotalMicroseconds);
        Assert.True(reloading < IndexOf(after, "READY=1"), string.Join(" | ", after));
    }

    private static int IndexOf(IReadOnlyList<string> lines, string prefix)
    {
        for (int i = 0; i < lines.Count; i++)
        {
            if (lines[i].StartsWith(prefix, StringComparison.Ordinal)) return i;
        }
        return -1;
    }

    private static Dictionary<string, string> Systemd(FakeNotifySocket notify, string? watchdogUsec = null)
    {
        var environment = new Dictionary<string, string> { [SystemdNotifier.SocketVariable] = notify.Name };
        if (watchdogUsec is not null) environment[SystemdNotifier.WatchdogIntervalVariable] = watchdogUsec;
        return environment;
    }
}
