using Mtt.Core.Routing;

namespace Mtt.Core.Diagnostics;

/// <summary>
/// The server-wide tunnel, stream and byte counts, derived from the users' own counters so the relay counts
/// each message once: the sum over the users that had a tunnel, plus what users deleted or moved (revoked)
/// had counted. A revoked user with no tunnel left is folded into that remainder and forgotten, so the set
/// stays as large as the users that matter, not as all users ever seen.
/// </summary>
internal sealed class ServerTotals
{
    // UserState.TotalsMembership: 0 (a user no tunnel has opened on) is outside the sum and counts nothing.
    private const int Tracked = 1;
    private const int Folded = 2;

    // Below this many, sweeping for revoked users is not worth its pass.
    private const int MinSweepSize = 64;

    private readonly Lock _lock = new();
    private readonly HashSet<UserState> _users = [];
    private UserCounts _folded;
    private int _sweepAt = MinSweepSize;

    /// <summary>
    /// Called after each tunnel's open was counted on <paramref name="user"/>: from then on its counts are in the
    /// sum. A plain read once the user is tracked. The open's increment comes first: with the fence in
    /// <see cref="TryFold"/>, either the fold sees this tunnel and keeps the user, or this call sees the fold
    /// and tracks the user again (the tunnel may come from a route table read just before the user went).
    /// </summary>
    public void TunnelOpened(UserState user)
    {
        if (Volatile.Read(ref user.TotalsMembership) == Tracked) return;
        lock (_lock)
        {
            if (user.TotalsMembership == Tracked) return;
            user.TotalsMembership = Tracked;
            _users.Add(user);
            // Doubling the threshold makes the sweeps cost a constant per user added.
            if (_users.Count >= _sweepAt)
            {
                FoldRevokedUsers();
                _sweepAt = Math.Max(MinSweepSize, _users.Count * 2);
            }
        }
    }

    /// <summary>Users whose counters are summed one by one: those in the table that had a tunnel, and revoked ones not yet folded.</summary>
    public int TrackedUsers
    {
        get { lock (_lock) return _users.Count; }
    }

    /// <summary>The totals now: a consistent sum (no user counted twice or missed while it is folded).</summary>
    public UserCounts Read()
    {
        lock (_lock)
        {
            FoldRevokedUsers();
            var sum = _folded;
            foreach (var user in _users) sum += user.Counts - user.CountsFolded;
            return sum;
        }
    }

    private void FoldRevokedUsers()
    {
        // Removing while enumerating a HashSet is allowed (since .NET Core 3.0): no list of the folded ones.
        foreach (var user in _users)
        {
            if (user.IsRevoked && TryFold(user)) _users.Remove(user);
        }
    }

    /// <summary>Moves a revoked user's counts into the remainder when no tunnel of it is open.</summary>
    private bool TryFold(UserState user)
    {
        // Marked first, then the open tunnels read: the mirror of TunnelOpened's order (Dekker's).
        Volatile.Write(ref user.TotalsMembership, Folded);
        Interlocked.MemoryBarrier();
        if (user.ActiveTunnels != 0)
        {
            user.TotalsMembership = Tracked;
            return false;
        }
        var counts = user.Counts;
        _folded += counts - user.CountsFolded;
        user.CountsFolded = counts;
        return true;
    }
}
