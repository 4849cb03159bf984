namespace Mtt.Core.Routing;

/// <summary>
/// The counters of one user, or a sum of users: live tunnels and streams (gauges), tunnels and streams opened,
/// bytes each way (counters). A value, so a sum can be taken and kept without touching the live counters.
/// </summary>
public readonly record struct UserCounts(long TunnelsActive, long StreamsActive, long TunnelsOpened, long StreamsOpened, long FromClient, long ToClient)
{
    public static UserCounts operator +(UserCounts a, UserCounts b) => new(
        a.TunnelsActive + b.TunnelsActive, a.StreamsActive + b.StreamsActive, a.TunnelsOpened + b.TunnelsOpened,
        a.StreamsOpened + b.StreamsOpened, a.FromClient + b.FromClient, a.ToClient + b.ToClient);

    public static UserCounts operator -(UserCounts a, UserCounts b) => new(
        a.TunnelsActive - b.TunnelsActive, a.StreamsActive - b.StreamsActive, a.TunnelsOpened - b.TunnelsOpened,
        a.StreamsOpened - b.StreamsOpened, a.FromClient - b.FromClient, a.ToClient - b.ToClient);
}
