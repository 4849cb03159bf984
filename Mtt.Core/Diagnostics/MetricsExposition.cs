using Mtt.Core.Routing;

namespace Mtt.Core.Diagnostics;

/// <summary>The body of <c>GET /metrics</c>: the server's counters and, with <c>-metrics-per-user</c>, one series per user name.</summary>
internal static class MetricsExposition
{
    public static byte[] Render(ServerMetrics metrics, RouteTable users, IMetricsSection? extra = null)
    {
        // One sum for all six, so they agree with each other.
        var totals = metrics.Totals.Read();
        var w = new PrometheusTextWriter();
        w.Family("mtt_users", "gauge", "Users in the table.");
        w.Sample("mtt_users", users.Count);

        w.Family("mtt_tunnels_active", "gauge", "WebSocket tunnels (plain or smux sessions) open now.");
        w.Sample("mtt_tunnels_active", totals.TunnelsActive);
        w.Family("mtt_tunnels_opened_total", "counter", "WebSocket tunnels opened (101 sent) since start.");
        w.Sample("mtt_tunnels_opened_total", totals.TunnelsOpened);
        w.Family("mtt_streams_active", "gauge", "smux streams open now.");
        w.Sample("mtt_streams_active", totals.StreamsActive);
        w.Family("mtt_streams_opened_total", "counter", "smux streams opened since start.");
        w.Sample("mtt_streams_opened_total", totals.StreamsOpened);

        w.Family("mtt_handshakes_refused_total", "counter", "Connections that got no tunnel, by reason.");
        foreach (var reason in Enum.GetValues<HandshakeRefusal>())
            w.Sample("mtt_handshakes_refused_total", "reason", ReasonLabel(reason), metrics.Refused(reason));

        w.Family("mtt_bytes_from_client_total", "counter", "Payload bytes received from clients.");
        w.Sample("mtt_bytes_from_client_total", totals.FromClient);
        w.Family("mtt_bytes_to_client_total", "counter", "Payload bytes sent to clients.");
        w.Sample("mtt_bytes_to_client_total", totals.ToClient);
        w.Family("mtt_backend_dial_failures_total", "counter", "Backend connections that failed (refused, unreachable, too slow).");
        w.Sample("mtt_backend_dial_failures_total", metrics.DialFailures);

        w.Family("mtt_controller_commands_total", "counter", "Controller commands answered, by opt and result.");
        for (int i = 0; i <= ServerMetrics.KnownOpts.Length; i++)
        {
            string opt = i < ServerMetrics.KnownOpts.Length ? ServerMetrics.KnownOpts[i].ToString(System.Globalization.CultureInfo.InvariantCulture) : "other";
            w.Sample("mtt_controller_commands_total", [("opt", opt), ("result", "ok")], metrics.Commands(i, ok: true));
            w.Sample("mtt_controller_commands_total", [("opt", opt), ("result", "error")], metrics.Commands(i, ok: false));
        }

        if (metrics.PerUser) WritePerUser(w, users);
        extra?.Write(w);
        return w.ToUtf8();
    }

    private static void WritePerUser(PrometheusTextWriter w, RouteTable users)
    {
        // Users that share a name (one account, several paths) are one series: a label set must be unique.
        var byName = new SortedDictionary<string, UserTotals>(StringComparer.Ordinal);
        foreach (var route in users.Routes)
        {
            var state = route.State;
            byName.TryGetValue(route.Label, out var totals);
            var last = state.LastActivityUtc;
            byName[route.Label] = new UserTotals(
                totals.TunnelsActive + state.ActiveTunnels,
                totals.StreamsActive + state.ActiveStreams,
                totals.TunnelsOpened + state.TotalTunnels,
                totals.StreamsOpened + state.TotalStreams,
                totals.FromClient + state.BytesFromClient,
                totals.ToClient + state.BytesToClient,
                last is { } t && (totals.LastActivity is null || t > totals.LastActivity) ? t : totals.LastActivity);
        }

        Write(w, byName, "mtt_user_tunnels_active", "gauge", "The user's tunnels open now.", t => t.TunnelsActive);
        Write(w, byName, "mtt_user_streams_active", "gauge", "The user's smux streams open now.", t => t.StreamsActive);
        Write(w, byName, "mtt_user_tunnels_opened_total", "counter", "The user's tunnels opened since it was added.", t => t.TunnelsOpened);
        Write(w, byName, "mtt_user_streams_opened_total", "counter", "The user's smux streams opened since it was added.", t => t.StreamsOpened);
        Write(w, byName, "mtt_user_bytes_from_client_total", "counter", "Payload bytes from the user's clients since it was added.", t => t.FromClient);
        Write(w, byName, "mtt_user_bytes_to_client_total", "counter", "Payload bytes to the user's clients since it was added.", t => t.ToClient);

        w.Family("mtt_user_last_activity_seconds", "gauge", "Unix time of the user's last tunnel opened or byte moved.");
        foreach (var (name, totals) in byName)
        {
            if (totals.LastActivity is { } last)
                w.Sample("mtt_user_last_activity_seconds", "user", name, Math.Round((last - DateTime.UnixEpoch).TotalSeconds, 3));
        }
    }

    private static void Write(PrometheusTextWriter w, SortedDictionary<string, UserTotals> byName, string metric, string type, string help, Func<UserTotals, long> value)
    {
        w.Family(metric, type, help);
        foreach (var (name, totals) in byName) w.Sample(metric, "user", name, value(totals));
    }

    private static string ReasonLabel(HandshakeRefusal reason) => reason switch
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
        _ => "unknown",
    };

    private readonly record struct UserTotals(
        long TunnelsActive, long StreamsActive, long TunnelsOpened, long StreamsOpened, long FromClient, long ToClient, DateTime? LastActivity);
}
