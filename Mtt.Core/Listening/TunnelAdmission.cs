using System.Net;
using Mtt.Core.Diagnostics;
using Mtt.Core.Limits;
using Mtt.Core.Routing;

namespace Mtt.Core.Listening;

/// <summary>
/// A user's limits at the door: after the route and the WebSocket headers are found good, before the 101 and
/// before any backend is dialled. Each refusal has one status and one metrics label.
/// </summary>
internal static class TunnelAdmission
{
    /// <summary>
    /// Admits a tunnel of <paramref name="route"/>'s user from <paramref name="client"/>, or says why not. The
    /// first tunnel after a table was loaded (a state file) puts its limits in force on this listener's clock.
    /// </summary>
    public static LimitRefusal TryAdmit(Route route, IPAddress? client, TimeProvider time)
    {
        var state = route.State;
        var limiter = state.Limiter;
        if (!ReferenceEquals(limiter.Applied, route.Limits)) limiter.Apply(route.Limits, state.BytesBothWays, time);
        return limiter.TryAdmit(client);
    }

    public static int StatusFor(LimitRefusal refusal) => refusal is LimitRefusal.Conns or LimitRefusal.Ips ? 429 : 403;

    public static HandshakeRefusal MetricFor(LimitRefusal refusal) => refusal switch
    {
        LimitRefusal.Conns => HandshakeRefusal.UserConns,
        LimitRefusal.Ips => HandshakeRefusal.UserIps,
        LimitRefusal.Quota => HandshakeRefusal.UserQuota,
        _ => HandshakeRefusal.UserExpired,
    };

    public static string Describe(LimitRefusal refusal, UserLimits limits) => refusal switch
    {
        LimitRefusal.Conns => $"max_conns {limits.MaxConns} tunnels open",
        LimitRefusal.Ips => $"max_ips {limits.MaxIps} other addresses connected",
        LimitRefusal.Quota => "quota spent",
        _ => "expired",
    };
}
