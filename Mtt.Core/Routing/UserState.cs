using Mtt.Core.Limits;

namespace Mtt.Core.Routing;

/// <summary>
/// The running side of one user: live and total tunnels, bytes each way, the last activity, and the
/// revoked signal that closes its tunnels when the user is deleted or moved to another backend. A
/// command that leaves a user as it was (same path, same dst) carries this object into the next table,
/// so counters and live tunnels survive it. The relay counts with one <see cref="Interlocked"/> add per
/// message: no lock, no allocation. These counters are the only ones: the server's totals are their sum.
/// </summary>
public sealed class UserState
{
    private readonly CancellationTokenSource _revoked = new();
    private readonly Lock _trafficReadLock = new();
    private long _activeTunnels;
    private long _activeStreams;
    private long _totalTunnels;
    private long _totalStreams;
    private long _bytesFromClient;
    private long _bytesToClient;
    private long _lastActivityTicks;
    // opt 5 reports the bytes since its last reset: the totals minus these, so the totals stay monotonic for metrics.
    private long _fromClientAtReset;
    private long _toClientAtReset;

    /// <summary>Cancelled once the user is deleted or its dst changes: every live tunnel of the user closes with 1008.</summary>
    public CancellationToken Revoked => _revoked.Token;

    public bool IsRevoked => _revoked.IsCancellationRequested;

    /// <summary>The user's limits as enforced: admission, rate buckets, quota end, expiry.</summary>
    public UserLimiter Limiter { get; } = new();

    /// <summary>Bytes both ways since the user was added: what the quota counts.</summary>
    public long BytesBothWays => BytesFromClient + BytesToClient;

    public long ActiveTunnels => Volatile.Read(ref _activeTunnels);

    public long ActiveStreams => Volatile.Read(ref _activeStreams);

    public long TotalTunnels => Volatile.Read(ref _totalTunnels);

    public long TotalStreams => Volatile.Read(ref _totalStreams);

    /// <summary>Bytes from the user's clients since the user was added (monotonic).</summary>
    public long BytesFromClient => Volatile.Read(ref _bytesFromClient);

    /// <summary>Bytes to the user's clients since the user was added (monotonic).</summary>
    public long BytesToClient => Volatile.Read(ref _bytesToClient);

    /// <summary>All the counters at once; each is read on its own, so under traffic they may be a message apart.</summary>
    public UserCounts Counts => new(ActiveTunnels, ActiveStreams, TotalTunnels, TotalStreams, BytesFromClient, BytesToClient);

    // The server-wide totals are sums of users (ServerTotals); these two are its bookkeeping on this user, written
    // under its lock: whether the user is in the live sum, and how much of its counts was already moved out of it.
    internal int TotalsMembership;
    internal UserCounts CountsFolded;

    /// <summary>When a tunnel of this user last opened or moved a byte, or null if none ever did.</summary>
    public DateTime? LastActivityUtc
    {
        get
        {
            long ticks = Volatile.Read(ref _lastActivityTicks);
            if (ticks == 0) return null;
            // Kept as the monotonic clock (cheap on the hot path) and turned into wall time only when read.
            return DateTime.UtcNow - TimeSpan.FromMilliseconds(Environment.TickCount64 - ticks);
        }
    }

    public void TunnelOpened()
    {
        Interlocked.Increment(ref _activeTunnels);
        Interlocked.Increment(ref _totalTunnels);
        Touch();
    }

    public void TunnelClosed() => Interlocked.Decrement(ref _activeTunnels);

    public void StreamOpened()
    {
        Interlocked.Increment(ref _activeStreams);
        Interlocked.Increment(ref _totalStreams);
        Touch();
    }

    public void StreamClosed() => Interlocked.Decrement(ref _activeStreams);

    public void AddFromClient(long bytes)
    {
        long total = Interlocked.Add(ref _bytesFromClient, bytes) + Volatile.Read(ref _bytesToClient);
        // Without a quota the end is long.MaxValue and this compare is all it costs.
        if (total >= Limiter.QuotaEnd) Limiter.QuotaReached();
        Touch();
    }

    public void AddToClient(long bytes)
    {
        long total = Interlocked.Add(ref _bytesToClient, bytes) + Volatile.Read(ref _bytesFromClient);
        if (total >= Limiter.QuotaEnd) Limiter.QuotaReached();
        Touch();
    }

    /// <summary>
    /// The bytes each way since the last reset; with <paramref name="reset"/> the next read starts from
    /// here. Each byte is added before the totals are read (counted now) or after (counted next time),
    /// so nothing is lost or counted twice; the lock only orders readers, the relay never takes it.
    /// </summary>
    public (long FromClient, long ToClient) ReadTraffic(bool reset)
    {
        lock (_trafficReadLock)
        {
            long from = Volatile.Read(ref _bytesFromClient);
            long to = Volatile.Read(ref _bytesToClient);
            var sample = (from - _fromClientAtReset, to - _toClientAtReset);
            if (reset)
            {
                _fromClientAtReset = from;
                _toClientAtReset = to;
            }
            return sample;
        }
    }

    /// <summary>Closes every live tunnel of the user; idempotent.</summary>
    public void Revoke()
    {
        try { _revoked.Cancel(); }
        catch (AggregateException)
        {
            // A tunnel's stop callback failed; the others have run, and each tunnel logs its own end.
        }
    }

    private void Touch()
    {
        // Skips the write when the value is already current (the common case under load): no cache-line ping-pong.
        long now = Environment.TickCount64;
        if (Volatile.Read(ref _lastActivityTicks) != now) Volatile.Write(ref _lastActivityTicks, now);
    }
}
