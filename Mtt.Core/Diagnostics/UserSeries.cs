using Mtt.Core.Routing;

namespace Mtt.Core.Diagnostics;

/// <summary>
/// The per-user series of <c>-metrics-per-user</c>: the users of a route table summed by label (their name, else
/// the path's short hash), so users that share a name (one account, several paths) are one series, as a
/// Prometheus label set must be unique.
/// </summary>
internal static class UserSeries
{
    public static SortedDictionary<string, UserTotals> ByLabel(RouteTable users)
    {
        var byLabel = new SortedDictionary<string, UserTotals>(StringComparer.Ordinal);
        foreach (var route in users.Routes)
        {
            var state = route.State;
            byLabel.TryGetValue(route.Label, out var totals);
            var last = state.LastActivityUtc;
            byLabel[route.Label] = new UserTotals(
                totals.TunnelsActive + state.ActiveTunnels,
                totals.StreamsActive + state.ActiveStreams,
                totals.TunnelsOpened + state.TotalTunnels,
                totals.StreamsOpened + state.TotalStreams,
                totals.FromClient + state.BytesFromClient,
                totals.ToClient + state.BytesToClient,
                last is { } t && (totals.LastActivity is null || t > totals.LastActivity) ? t : totals.LastActivity);
        }
        return byLabel;
    }
}
