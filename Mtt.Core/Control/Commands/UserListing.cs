using System.Globalization;
using Mtt.Core.Routing;

namespace Mtt.Core.Control.Commands;

/// <summary>opt 4 (the users and their counters) and opt 5 (traffic, optionally read and reset in one step).</summary>
internal static class UserListing
{
    public static CommandOutcome List(RouteTable table, int entryCount, TimeProvider time)
    {
        var users = new List<UserReport>(table.Count);
        var now = time.GetUtcNow();
        foreach (var route in Sorted(table))
        {
            var state = route.State;
            var last = state.LastActivityUtc;
            users.Add(new UserReport
            {
                Path = route.Path,
                Dst = route.Backend.ToString(),
                Name = route.Name,
                ActiveTunnels = state.ActiveTunnels,
                ActiveStreams = state.ActiveStreams,
                TotalTunnels = state.TotalTunnels,
                TotalStreams = state.TotalStreams,
                BytesFromClient = state.BytesFromClient,
                BytesToClient = state.BytesToClient,
                // Milliseconds are all the monotonic clock behind it has.
                LastActivity = last is { } t ? new DateTime(t.Ticks - t.Ticks % TimeSpan.TicksPerMillisecond, DateTimeKind.Utc) : null,
            });
            AddLimits(users[^1], route, now);
        }
        return new CommandOutcome(new ControllerReply { Res = ControllerReply.Success, Users = users },
            CommandProcessor.OptList, entryCount, $"listed {users.Count} users");
    }

    /// <summary>
    /// A user's limits and what is left of them, as this instance enforces them (with <c>-redis</c>, opt 4 then puts
    /// the cluster's count of the quota in <c>quota_left</c>).
    /// </summary>
    internal static void AddLimits(UserReport report, Route route, DateTimeOffset now)
    {
        var state = route.State;
        var limits = route.Limits;
        // A user whose limits no tunnel or command has put in force yet (loaded from a state file) has spent nothing.
        bool inForce = ReferenceEquals(state.Limiter.Applied, limits);
        report.MaxConns = limits.MaxConns;
        report.MaxIps = limits.MaxIps;
        report.Rate = limits.Rate;
        report.Quota = limits.Quota;
        report.QuotaLeft = state.Limiter.QuotaLeft(limits, state.BytesBothWays);
        report.Expires = limits.Expires;
        report.Expired = limits.Expires is { } expires ? inForce ? state.Limiter.IsExpired(now) : expires <= now : null;
    }

    public static CommandOutcome Traffic(RouteTable table, bool reset, int entryCount)
    {
        var traffic = new List<TrafficReport>(table.Count);
        foreach (var route in Sorted(table))
        {
            var (fromClient, toClient) = route.State.ReadTraffic(reset);
            traffic.Add(new TrafficReport { Path = route.Path, Name = route.Name, BytesFromClient = fromClient, BytesToClient = toClient });
        }
        return new CommandOutcome(new ControllerReply { Res = ControllerReply.Success, Traffic = traffic },
            CommandProcessor.OptTraffic, entryCount,
            string.Create(CultureInfo.InvariantCulture, $"traffic of {traffic.Count} users{(reset ? ", counters reset" : "")}"));
    }

    // By path, so that two answers compare line by line.
    private static Route[] Sorted(RouteTable table)
    {
        var routes = new Route[table.Count];
        int i = 0;
        foreach (var route in table.Routes) routes[i++] = route;
        Array.Sort(routes, static (a, b) => string.CompareOrdinal(a.Path, b.Path));
        return routes;
    }
}
