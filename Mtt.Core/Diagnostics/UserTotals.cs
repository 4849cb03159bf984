namespace Mtt.Core.Diagnostics;

/// <summary>One per-user series: the counters of every user that shares a label, summed; the latest activity of them.</summary>
internal readonly record struct UserTotals(
    long TunnelsActive, long StreamsActive, long TunnelsOpened, long StreamsOpened, long FromClient, long ToClient, DateTime? LastActivity);
