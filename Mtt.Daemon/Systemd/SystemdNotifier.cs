using Microsoft.Extensions.Logging;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Mtt.Core.Diagnostics;

namespace Mtt.Daemon.Systemd;

/// <summary>
/// sd_notify(3) in a few lines: datagrams of <c>KEY=value</c> lines to the socket named by <c>NOTIFY_SOCKET</c>
/// (a path, or an abstract name written with a leading <c>@</c>). Without that variable (not started by systemd,
/// or not <c>Type=notify</c>) every call does nothing. A failed send is logged once and never stops the server:
/// systemd then judges it by its timeouts, as it would a server that never spoke.
/// </summary>
/// <remarks>
/// Microsoft.Extensions.Hosting.Systemd's notifier was measured against this (README, "Running under systemd"):
/// it brings the generic host along and adds size and start-up time for the same datagram.
/// </remarks>
public sealed class SystemdNotifier : IDisposable
{
    public const string SocketVariable = "NOTIFY_SOCKET";
    public const string WatchdogIntervalVariable = "WATCHDOG_USEC";
    public const string WatchdogPidVariable = "WATCHDOG_PID";

    private readonly Socket? _socket;
    private readonly UnixDomainSocketEndPoint? _target;
    private readonly ILogger _log;
    private int _failureLogged;

    /// <summary>A notifier that sends nothing: outside systemd.</summary>
    public static SystemdNotifier None { get; } = new(null, null, ServerLog.Silent);

    private SystemdNotifier(string? socketName, TimeSpan? watchdog, ILogger log)
    {
        _log = log;
        WatchdogInterval = watchdog;
        if (socketName is null) return;
        // sd_notify: '@' stands for the NUL that starts a Linux abstract socket name.
        _target = new UnixDomainSocketEndPoint(socketName[0] == '@' ? "\0" + socketName[1..] : socketName);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    }

    /// <summary>True when there is a socket to tell: the server runs under systemd with Type=notify.</summary>
    public bool IsEnabled => _socket is not null;

    /// <summary><c>WatchdogSec=</c> of the unit (from <c>WATCHDOG_USEC</c>), when it applies to this process; null otherwise.</summary>
    public TimeSpan? WatchdogInterval { get; }

    /// <summary>Reads <c>NOTIFY_SOCKET</c>, <c>WATCHDOG_USEC</c> and <c>WATCHDOG_PID</c> through <paramref name="environment"/>.</summary>
    public static SystemdNotifier FromEnvironment(Func<string, string?> environment, ILogger log)
    {
        string? socket = environment(SocketVariable);
        if (string.IsNullOrEmpty(socket)) return None;
        if (socket[0] != '/' && socket[0] != '@')
        {
            DaemonLog.NotifySocketInvalid(log, socket);
            return None;
        }
        return new SystemdNotifier(socket, ReadWatchdog(environment), log);
    }

    // sd_watchdog_enabled(3): WATCHDOG_USEC set and, when WATCHDOG_PID is set, naming this process.
    private static TimeSpan? ReadWatchdog(Func<string, string?> environment)
    {
        if (!ulong.TryParse(environment(WatchdogIntervalVariable), NumberStyles.None, CultureInfo.InvariantCulture, out ulong usec) || usec == 0) return null;
        if (environment(WatchdogPidVariable) is { Length: > 0 } pid &&
            (!int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out int forPid) || forPid != Environment.ProcessId)) return null;
        return TimeSpan.FromMicroseconds(Math.Min(usec, (ulong)TimeSpan.MaxValue.TotalMicroseconds / 2));
    }

    public void Ready(string status) => Send($"READY=1\nSTATUS={status}");

    public void Status(string status) => Send($"STATUS={status}");

    public void Watchdog(string status) => Send($"WATCHDOG=1\nSTATUS={status}");

    public void Stopping(string status) => Send($"STOPPING=1\nSTATUS={status}");

    /// <summary>RELOADING=1 with the CLOCK_MONOTONIC time systemd asks for (systemd.service, Type=notify-reload).</summary>
    public void Reloading(string status) => Send($"RELOADING=1\nMONOTONIC_USEC={MonotonicMicroseconds()}\nSTATUS={status}");

    // On Linux the Stopwatch reads CLOCK_MONOTONIC, the clock systemd compares MONOTONIC_USEC with.
    private static long MonotonicMicroseconds() => (long)(Stopwatch.GetTimestamp() * (1_000_000.0 / Stopwatch.Frequency));

    private void Send(string message)
    {
        if (_socket is null) return;
        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(message), SocketFlags.None, _target!);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            if (Interlocked.Exchange(ref _failureLogged, 1) == 0)
                DaemonLog.NotifyFailed(_log, e.Message);
        }
    }

    public void Dispose() => _socket?.Dispose();
}
