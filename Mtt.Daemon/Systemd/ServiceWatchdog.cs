using Microsoft.Extensions.Logging;
using Mtt.Core.Diagnostics;
using Mtt.Core.Listening;

namespace Mtt.Daemon.Systemd;

/// <summary>
/// Tells systemd the server is alive only when it is: each tick sends a probe connection to the tunnel listener,
/// and <c>WATCHDOG=1</c> goes out when the accept loop has taken it. A wedged loop leaves the probe unanswered, so
/// the pings stop and systemd restarts the service after <c>WatchdogSec=</c>; a timer alone would tick on. Each
/// ping carries a fresh <c>STATUS=</c>. Without a watchdog the same loop only refreshes the status.
/// </summary>
public sealed class ServiceWatchdog
{
    /// <summary>How often the status is refreshed when the unit has no <c>WatchdogSec=</c>.</summary>
    public static readonly TimeSpan StatusInterval = TimeSpan.FromSeconds(10);

    private readonly SystemdNotifier _notifier;
    private readonly AcceptProbe? _probe;
    private readonly Func<string> _status;
    private readonly TimeProvider _time;
    private readonly ILogger _log;

    /// <param name="probe">The tunnel listener's probe; null when the unit has no watchdog (status only).</param>
    public ServiceWatchdog(SystemdNotifier notifier, AcceptProbe? probe, Func<string> status, TimeProvider time, ILogger log)
    {
        _notifier = notifier;
        _probe = notifier.WatchdogInterval is null ? null : probe;
        _status = status;
        _time = time;
        _log = log;
    }

    /// <summary>
    /// Half of <c>WatchdogSec=</c>, as sd_watchdog_enabled(3) advises: a probe answered within one tick reaches
    /// systemd before its deadline even when the previous ping left just after a tick.
    /// </summary>
    public TimeSpan Interval => _notifier.WatchdogInterval is { } watchdog ? watchdog / 2 : StatusInterval;

    /// <summary>Runs until <paramref name="stop"/>; returns at once outside systemd.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        if (!_notifier.IsEnabled) return;
        using var timer = new PeriodicTimer(Interval, _time);
        try
        {
            Task<bool> tick = timer.WaitForNextTickAsync(stop).AsTask();
            bool late = false;
            while (await tick.ConfigureAwait(false))
            {
                tick = timer.WaitForNextTickAsync(stop).AsTask();
                if (_probe is null)
                {
                    _notifier.Status(_status());
                    continue;
                }
                // The same probe stays outstanding across ticks until the loop takes it.
                Task accepted = _probe.AcceptedAsync(stop);
                await Task.WhenAny(accepted, tick).ConfigureAwait(false);
                if (accepted.IsCompletedSuccessfully)
                {
                    _notifier.Watchdog(_status());
                    if (late) DaemonLog.WatchdogRecovered(_log);
                    late = false;
                }
                else if (!stop.IsCancellationRequested && !late)
                {
                    late = true;
                    string why = accepted.Exception?.InnerException?.Message ?? $"not accepted within {GoDuration.Format(Interval)}";
                    DaemonLog.WatchdogProbeFailed(_log, why);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
