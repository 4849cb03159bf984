using System.Net;

namespace Mtt.Core.Limits;

/// <summary>
/// The enforcing side of one user's <see cref="UserLimits"/>: tunnels and addresses open now (admission before
/// the upgrade), the two rate buckets, where the quota ends, the expiry timer, and the signal that closes the
/// user's tunnels with 1008 once the quota is spent or the time has come. One per user, carried with its
/// counters from table to table; it follows the limits it was last given (<see cref="Apply"/>). An unlimited
/// user has no bucket and no timer: its relay reads one null reference and one number per message.
/// </summary>
public sealed class UserLimiter
{
    // A timer due further out than this is set for this long and looks again when it fires: a TimeProvider timer
    // cannot be set for much more than 49 days.
    private static readonly TimeSpan MaxTimerDue = TimeSpan.FromDays(20);

    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, int> _addresses = [];
    private CancellationTokenSource _cut = new();
    private TimeProvider? _time;
    private UserLimits _applied = UserLimits.None;
    private RateBucket? _upstream;
    private RateBucket? _downstream;
    private ITimer? _expiryTimer;
    private long _quotaEnd = long.MaxValue;
    private int _cutReason;
    private int _tunnels;
    private long _pacedTicks;
    // Quota spent before a restart (the state file's quota_used): counted as spent when the quota is first put in force.
    private long _carriedUsed;
    // One more each time the quota starts a new count (or is lifted): a cluster count taken before it is of the old one.
    private int _quotaGeneration;

    /// <summary>The limits in force: the last ones given to <see cref="Apply"/>.</summary>
    public UserLimits Applied => Volatile.Read(ref _applied);

    /// <summary>Cancelled when the quota is spent or the expiry time comes: the user's tunnels close with 1008.</summary>
    public CancellationToken LimitReached
    {
        get { lock (_lock) return _cut.Token; }
    }

    /// <summary>Why <see cref="LimitReached"/> fired (<see cref="LimitRefusal.Quota"/> or <see cref="LimitRefusal.Expired"/>), else None.</summary>
    public LimitRefusal CutReason => (LimitRefusal)Volatile.Read(ref _cutReason);

    /// <summary>The user's byte total (both ways) at which the quota is spent; <see cref="long.MaxValue"/> without one.</summary>
    public long QuotaEnd => Volatile.Read(ref _quotaEnd);

    /// <summary>Client to backend; null unless the user has a rate.</summary>
    internal RateBucket? Upstream => Volatile.Read(ref _upstream);

    /// <summary>Backend to client; null unless the user has a rate.</summary>
    internal RateBucket? Downstream => Volatile.Read(ref _downstream);

    /// <summary>Time the user's reads waited for the rate, summed over its tunnels and directions.</summary>
    public TimeSpan Paced => TimeSpan.FromTicks(Volatile.Read(ref _pacedTicks));

    /// <summary>
    /// Puts <paramref name="limits"/> in force, for the tunnels open now and those to come. The quota counts from
    /// <paramref name="bytesNow"/> (the user's total both ways) when it is new, changed, or was spent; the same
    /// quota given again keeps counting, so a script that re-sends its whole user list refills nobody.
    /// </summary>
    public void Apply(UserLimits limits, long bytesNow, TimeProvider time)
    {
        CancellationTokenSource? toCancel;
        lock (_lock)
        {
            var old = _applied;
            _time = time;
            Volatile.Write(ref _applied, limits);

            if (limits.Rate is { } rate)
            {
                if (_upstream is null)
                {
                    Volatile.Write(ref _upstream, new RateBucket(rate, time));
                    Volatile.Write(ref _downstream, new RateBucket(rate, time));
                }
                else
                {
                    _upstream.SetRate(rate);
                    _downstream!.SetRate(rate);
                }
            }
            else if (_upstream is not null)
            {
                // Loops that hold the buckets now take freely; new reads see no bucket at all.
                _upstream.SetRate(0);
                _downstream!.SetRate(0);
                Volatile.Write(ref _upstream, null);
                Volatile.Write(ref _downstream, null);
            }

            if (limits.Quota is not { } quota)
            {
                if (old.Quota is not null) _quotaGeneration++;
                Volatile.Write(ref _quotaEnd, long.MaxValue);
            }
            else if (old.Quota != quota || _cutReason == (int)LimitRefusal.Quota)
            {
                Volatile.Write(ref _quotaEnd, bytesNow + quota - _carriedUsed);
                _carriedUsed = 0;
                _quotaGeneration++;
            }

            _expiryTimer?.Dispose();
            _expiryTimer = null;
            var now = time.GetUtcNow();
            // A cut whose cause is gone (a new quota, a later or no expiry) lets new tunnels in again.
            bool lifted = _cutReason switch
            {
                (int)LimitRefusal.Quota => bytesNow < _quotaEnd,
                (int)LimitRefusal.Expired => limits.Expires is not { } e || e > now,
                _ => false,
            };
            if (lifted)
            {
                // The old source is left to the collector: tunnels that it cut may still be unregistering from it.
                _cut = new CancellationTokenSource();
                Volatile.Write(ref _cutReason, (int)LimitRefusal.None);
            }

            toCancel = null;
            if (limits.Expires is { } expires)
            {
                if (expires <= now) toCancel = CutLocked(LimitRefusal.Expired);
                else ScheduleExpiryLocked(expires - now);
            }
            if (toCancel is null && bytesNow >= _quotaEnd) toCancel = CutLocked(LimitRefusal.Quota);
        }
        Cancel(toCancel);
    }

    /// <summary>
    /// Admits a new tunnel from <paramref name="address"/> (the real client; null when unknown), or says which
    /// limit refuses it. An admitted tunnel is counted until <see cref="Leave"/>.
    /// </summary>
    public LimitRefusal TryAdmit(IPAddress? address)
    {
        CancellationTokenSource? toCancel = null;
        LimitRefusal refusal;
        lock (_lock)
        {
            var limits = _applied;
            if (_cutReason != 0) refusal = (LimitRefusal)_cutReason;
            else if (limits.Expires is { } expires && _time is { } time && time.GetUtcNow() >= expires)
            {
                // The timer has not fired yet, but the time has come all the same.
                toCancel = CutLocked(LimitRefusal.Expired);
                refusal = LimitRefusal.Expired;
            }
            else if (limits.MaxConns is { } maxConns && _tunnels >= maxConns) refusal = LimitRefusal.Conns;
            else if (address is not null && limits.MaxIps is { } maxIps && !_addresses.ContainsKey(address) && _addresses.Count >= maxIps)
                refusal = LimitRefusal.Ips;
            else
            {
                refusal = LimitRefusal.None;
                _tunnels++;
                if (address is not null) _addresses[address] = _addresses.GetValueOrDefault(address) + 1;
            }
        }
        Cancel(toCancel);
        return refusal;
    }

    /// <summary>An admitted tunnel has ended.</summary>
    public void Leave(IPAddress? address)
    {
        lock (_lock)
        {
            _tunnels--;
            if (address is null) return;
            int left = _addresses.GetValueOrDefault(address) - 1;
            if (left > 0) _addresses[address] = left;
            else _addresses.Remove(address);
        }
    }

    /// <summary>The user's total crossed <see cref="QuotaEnd"/>: its tunnels close. Cheap once it has fired.</summary>
    public void QuotaReached()
    {
        if (Volatile.Read(ref _cutReason) != 0) return;
        CancellationTokenSource? toCancel;
        lock (_lock) toCancel = CutLocked(LimitRefusal.Quota);
        Cancel(toCancel);
    }

    /// <summary>Which count of the quota is running: read before a cluster count is asked for, given back to <see cref="SyncClusterQuota"/>.</summary>
    public int QuotaGeneration => Volatile.Read(ref _quotaGeneration);

    /// <summary>
    /// Under <c>-redis</c>: the cluster has spent <paramref name="clusterUsed"/> of <paramref name="quota"/>, this
    /// instance's bytes up to <paramref name="flushedBytes"/> (its both-ways total then) included. The quota now ends
    /// where what the cluster has left runs out on top of what this instance moved since; crossed already, the
    /// user's tunnels close. Ignored when the quota started a new count since <paramref name="generation"/> was read
    /// (the count is of the old one). A sync never lifts a cut: only a new quota (<see cref="Apply"/>) does.
    /// </summary>
    public void SyncClusterQuota(long quota, long clusterUsed, long flushedBytes, int generation, long bytesNow)
    {
        CancellationTokenSource? toCancel = null;
        lock (_lock)
        {
            if (generation != _quotaGeneration || _applied.Quota != quota) return;
            long end = flushedBytes + quota - clusterUsed;
            Volatile.Write(ref _quotaEnd, end);
            if (bytesNow >= end) toCancel = CutLocked(LimitRefusal.Quota);
        }
        Cancel(toCancel);
    }

    /// <summary>Before the limits are first put in force: <paramref name="used"/> bytes of the quota were spent before a restart.</summary>
    public void CarryQuotaUsed(long used)
    {
        lock (_lock) _carriedUsed = Math.Max(0, used);
    }

    /// <summary>The bytes left of <paramref name="limits"/>' quota, or null without one; the whole quota less what was carried if not yet in force.</summary>
    public long? QuotaLeft(UserLimits limits, long bytesNow)
    {
        if (limits.Quota is not { } quota) return null;
        lock (_lock)
        {
            return ReferenceEquals(_applied, limits) ? Math.Clamp(_quotaEnd - bytesNow, 0, quota) : Math.Max(0, quota - _carriedUsed);
        }
    }

    /// <summary>Whether the user's expiry time has come (by <paramref name="now"/> when the limiter has no clock yet).</summary>
    public bool IsExpired(DateTimeOffset now) =>
        CutReason == LimitRefusal.Expired || Applied.Expires is { } expires && (Volatile.Read(ref _time)?.GetUtcNow() ?? now) >= expires;

    internal void AddPaced(long timestampTicks, long frequency) =>
        Interlocked.Add(ref _pacedTicks, (long)(timestampTicks * ((double)TimeSpan.TicksPerSecond / frequency)));

    private void ScheduleExpiryLocked(TimeSpan due)
    {
        _expiryTimer = _time!.CreateTimer(static state => ((UserLimiter)state!).ExpiryTimerFired(), this,
            due < MaxTimerDue ? due : MaxTimerDue, Timeout.InfiniteTimeSpan);
    }

    private void ExpiryTimerFired()
    {
        CancellationTokenSource? toCancel = null;
        lock (_lock)
        {
            if (_applied.Expires is not { } expires || _time is null) return;
            var now = _time.GetUtcNow();
            if (now >= expires) toCancel = CutLocked(LimitRefusal.Expired);
            else
            {
                _expiryTimer?.Dispose();
                ScheduleExpiryLocked(expires - now);
            }
        }
        Cancel(toCancel);
    }

    // Returns the source to cancel once the lock is released: cancelling runs the tunnels' stop callbacks.
    private CancellationTokenSource? CutLocked(LimitRefusal reason)
    {
        if (_cutReason != 0) return null;
        Volatile.Write(ref _cutReason, (int)reason);
        return _cut;
    }

    private static void Cancel(CancellationTokenSource? source)
    {
        if (source is null) return;
        try { source.Cancel(); }
        catch (AggregateException)
        {
            // A tunnel's stop callback failed; the others have run, and each tunnel logs its own end.
        }
        catch (ObjectDisposedException)
        {
            // Replaced by a later Apply that lifted the cut: nothing listens to it any more.
        }
    }
}
