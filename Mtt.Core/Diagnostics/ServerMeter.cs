using System.Diagnostics.Metrics;
using System.Globalization;
using Mtt.Core.Routing;

namespace Mtt.Core.Diagnostics;

/// <summary>
/// The server's one <see cref="Meter"/>, named <c>mtt-mu-server</c>: every counter and gauge of the server as an
/// observable instrument over the counters that already exist (<see cref="ServerMetrics"/>, the users'
/// <see cref="UserState"/>), so <c>dotnet-counters</c> and OpenTelemetry collectors read them without code, the
/// hot path is unchanged and nothing is counted twice. <c>GET /metrics</c> renders these same instruments
/// (<see cref="PrometheusExposition"/>); their Prometheus names follow from the instrument names
/// (<see cref="PrometheusName"/>).
/// </summary>
/// <remarks>
/// The meter's <see cref="Meter.Scope"/> is the <see cref="ServerMetrics"/> it reads, so a listener in a process
/// that runs several servers (the tests) can tell their meters apart.
/// </remarks>
public sealed class ServerMeter : IDisposable
{
    /// <summary>The meter's name: <c>dotnet-counters monitor -n mtt-mu-server --counters mtt-mu-server</c>.</summary>
    public const string Name = "mtt-mu-server";

    public ServerMeter(ServerMetrics metrics, RouteStore routes)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(routes);
        Meter = new Meter(new MeterOptions(Name)
        {
            Version = typeof(ServerMeter).Assembly.GetName().Version?.ToString(),
            Scope = metrics,
        });

        Meter.CreateObservableUpDownCounter("mtt.users", () => (long)routes.Current.Count, "{user}", "Users in the table.");
        Meter.CreateObservableUpDownCounter("mtt.tunnels.active", () => metrics.TunnelsActive, "{tunnel}",
            "WebSocket tunnels (plain or smux sessions) open now.");
        Meter.CreateObservableCounter("mtt.tunnels.opened", () => metrics.TunnelsTotal, "{tunnel}", "WebSocket tunnels opened (101 sent) since start.");
        Meter.CreateObservableUpDownCounter("mtt.streams.active", () => metrics.StreamsActive, "{stream}", "smux streams open now.");
        Meter.CreateObservableCounter("mtt.streams.opened", () => metrics.StreamsTotal, "{stream}", "smux streams opened since start.");
        Meter.CreateObservableCounter("mtt.handshakes.refused", () => Refusals(metrics), "{connection}", "Connections that got no tunnel, by reason.");
        Meter.CreateObservableCounter("mtt.bytes.from_client", () => metrics.BytesFromClient, "By", "Payload bytes received from clients.");
        Meter.CreateObservableCounter("mtt.bytes.to_client", () => metrics.BytesToClient, "By", "Payload bytes sent to clients.");
        Meter.CreateObservableCounter("mtt.backend.dial_failures", () => metrics.DialFailures, "{connection}",
            "Backend connections that failed (refused, unreachable, too slow).");
        Meter.CreateObservableCounter("mtt.log.lines_dropped", () => metrics.LogLinesDropped, "{line}",
            "Log lines dropped because stderr (the journal, a pipe) did not take them in time.");
        Meter.CreateObservableCounter("mtt.controller.commands", () => Commands(metrics), "{command}", "Controller commands answered, by opt and result.");

        // Per-user series multiply with the users: only when asked for, for collectors as for /metrics.
        if (metrics.PerUser) CreatePerUser(routes);
    }

    /// <summary>The meter; disposed with this object (its instruments then end for every listener).</summary>
    public Meter Meter { get; }

    public void Dispose() => Meter.Dispose();

    private void CreatePerUser(RouteStore routes)
    {
        PerUser(routes, "mtt.user.tunnels.active", "{tunnel}", "The user's tunnels open now.", t => t.TunnelsActive, counter: false);
        PerUser(routes, "mtt.user.streams.active", "{stream}", "The user's smux streams open now.", t => t.StreamsActive, counter: false);
        PerUser(routes, "mtt.user.tunnels.opened", "{tunnel}", "The user's tunnels opened since it was added.", t => t.TunnelsOpened, counter: true);
        PerUser(routes, "mtt.user.streams.opened", "{stream}", "The user's smux streams opened since it was added.", t => t.StreamsOpened, counter: true);
        PerUser(routes, "mtt.user.bytes.from_client", "By", "Payload bytes from the user's clients since it was added.", t => t.FromClient, counter: true);
        PerUser(routes, "mtt.user.bytes.to_client", "By", "Payload bytes to the user's clients since it was added.", t => t.ToClient, counter: true);
        Meter.CreateObservableCounter("mtt.user.paced", () => Paced(routes.Current), "s",
            "Time the user's reads waited for its rate, summed over its tunnels, streams and both directions.");
        Meter.CreateObservableGauge("mtt.user.last_activity", () => LastActivity(routes.Current), "s",
            "Unix time of the user's last tunnel opened or byte moved.");
    }

    private void PerUser(RouteStore routes, string name, string unit, string description, Func<UserTotals, long> value, bool counter)
    {
        IEnumerable<Measurement<long>> Observe()
        {
            var byLabel = UserSeries.ByLabel(routes.Current);
            var measurements = new List<Measurement<long>>(byLabel.Count);
            foreach (var (label, totals) in byLabel) measurements.Add(new(value(totals), new KeyValuePair<string, object?>("user", label)));
            return measurements;
        }
        if (counter) Meter.CreateObservableCounter(name, Observe, unit, description);
        else Meter.CreateObservableUpDownCounter(name, Observe, unit, description);
    }

    private static List<Measurement<double>> LastActivity(RouteTable users)
    {
        var measurements = new List<Measurement<double>>();
        foreach (var (label, totals) in UserSeries.ByLabel(users))
        {
            if (totals.LastActivity is { } last)
                measurements.Add(new(Math.Round((last - DateTime.UnixEpoch).TotalSeconds, 3), new KeyValuePair<string, object?>("user", label)));
        }
        return measurements;
    }

    private static List<Measurement<double>> Paced(RouteTable users)
    {
        var measurements = new List<Measurement<double>>();
        foreach (var (label, totals) in UserSeries.ByLabel(users))
            measurements.Add(new(Math.Round(totals.PacedSeconds, 3), new KeyValuePair<string, object?>("user", label)));
        return measurements;
    }

    // Every reason, zeros included, so a dashboard's rate() has a series before the first refusal.
    private static Measurement<long>[] Refusals(ServerMetrics metrics)
    {
        var reasons = Enum.GetValues<HandshakeRefusal>();
        var measurements = new Measurement<long>[reasons.Length];
        for (int i = 0; i < reasons.Length; i++)
            measurements[i] = new(metrics.Refused(reasons[i]), new KeyValuePair<string, object?>("reason", ReasonLabel(reasons[i])));
        return measurements;
    }

    private static List<Measurement<long>> Commands(ServerMetrics metrics)
    {
        var measurements = new List<Measurement<long>>((ServerMetrics.KnownOpts.Length + 1) * 2);
        for (int i = 0; i <= ServerMetrics.KnownOpts.Length; i++)
        {
            string opt = i < ServerMetrics.KnownOpts.Length ? ServerMetrics.KnownOpts[i].ToString(CultureInfo.InvariantCulture) : "other";
            measurements.Add(new(metrics.Commands(i, ok: true), new("opt", opt), new("result", "ok")));
            measurements.Add(new(metrics.Commands(i, ok: false), new("opt", opt), new("result", "error")));
        }
        return measurements;
    }

    /// <summary>The <c>reason</c> label of <c>mtt_handshakes_refused_total</c>; operators' dashboards and alerts use these.</summary>
    internal static string ReasonLabel(HandshakeRefusal reason) => reason switch
    {
        HandshakeRefusal.BadRequest => "bad_request",
        HandshakeRefusal.NoUser => "no_user",
        HandshakeRefusal.MethodNotAllowed => "method_not_allowed",
        HandshakeRefusal.NotWebSocket => "not_websocket",
        HandshakeRefusal.HeadTooLarge => "head_too_large",
        HandshakeRefusal.OtherStatus => "other_status",
        HandshakeRefusal.Timeout => "timeout",
        HandshakeRefusal.TlsFailed => "tls_failed",
        HandshakeRefusal.ProxyHeader => "proxy_header",
        HandshakeRefusal.MaxConnections => "max_connections",
        HandshakeRefusal.PendingPerAddress => "pending_per_ip",
        HandshakeRefusal.FirstByteTimeout => "first_byte_timeout",
        HandshakeRefusal.UserConns => "conns",
        HandshakeRefusal.UserIps => "ips",
        HandshakeRefusal.UserQuota => "quota",
        HandshakeRefusal.UserExpired => "expired",
        _ => "unknown",
    };
}
