using System.Globalization;
using Mtt.Core.Routing;
using StackExchange.Redis;

namespace Mtt.Core.Cluster;

/// <summary>
/// Turns the users' local counters into deltas for Redis, once per tick. A batch holds the deltas between the
/// marks of the last batch Redis applied and the counts now, under a sequence number; it is sent again, the very
/// same, until Redis confirms it, and Redis applies a sequence once. So a flush that timed out but did land is
/// not counted twice, and one that did not land is not lost: the bytes stay in the batch, or in the counters
/// past its marks. What a crash loses is the unconfirmed batch and what came after it: at most a tick or two.
/// </summary>
internal sealed class CounterFlusher
{
    // Per user in a batch: path, four deltas, last activity, tunnels and streams open, whether those changed, and
    // the quota in force here (0 for none): the script counts the user's bytes against the cluster's quota only with one.
    public const int ValuesPerUser = 10;

    // Marks per user state: the counts Redis has from this instance. Users with nothing counted have none.
    private Dictionary<UserState, Marks> _marks = new(ReferenceEqualityComparer.Instance);
    private Batch? _pending;
    private long _sequence;
    private bool _resendOpen;

    /// <summary>The batch to send: the unconfirmed one again, or a new one from <paramref name="table"/>.</summary>
    public Batch Next(RouteTable table)
    {
        if (_pending is { } pending) return pending;
        var values = new List<RedisValue>();
        var quotaUsers = new List<QuotaUser>();
        var next = new Dictionary<UserState, Marks>(ReferenceEqualityComparer.Instance);
        foreach (var route in table.Routes)
        {
            var state = route.State;
            // Read before the counts: a quota that starts a new count after this makes the cluster's answer stale.
            long quota = state.Limiter.Applied.Quota ?? 0;
            int generation = quota > 0 ? state.Limiter.QuotaGeneration : 0;
            var counts = state.Counts;
            _marks.TryGetValue(state, out var old);
            if (counts == default && old.Counts == default) continue;
            long lastMs = state.LastActivityUtc is { } last ? new DateTimeOffset(last).ToUnixTimeMilliseconds() : 0;
            var delta = counts - old.Counts;
            bool openChanged = _resendOpen || delta.TunnelsActive != 0 || delta.StreamsActive != 0;
            if (openChanged || delta.FromClient != 0 || delta.ToClient != 0 || delta.TunnelsOpened != 0 || delta.StreamsOpened != 0)
            {
                values.Add(route.Path);
                values.Add(delta.FromClient);
                values.Add(delta.ToClient);
                values.Add(delta.TunnelsOpened);
                values.Add(delta.StreamsOpened);
                values.Add(lastMs > old.LastMs ? lastMs : 0);
                values.Add(counts.TunnelsActive);
                values.Add(counts.StreamsActive);
                values.Add(openChanged ? "1" : "0");
                values.Add(quota);
                if (quota > 0) quotaUsers.Add(new QuotaUser(state, quota, generation, counts.FromClient + counts.ToClient));
            }
            next[state] = new Marks(counts, Math.Max(lastMs, old.LastMs));
        }
        _resendOpen = false;
        var batch = new Batch(++_sequence, values.ToArray(), next, quotaUsers.ToArray());
        _pending = batch;
        return batch;
    }

    /// <summary>Redis applied <paramref name="batch"/>: its marks become the base of the next one.</summary>
    public void Confirm(Batch batch)
    {
        if (!ReferenceEquals(batch, _pending)) return;
        _marks = batch.NextMarks;
        _pending = null;
    }

    /// <summary>This instance's bytes (both ways) of <paramref name="state"/> that Redis has: the marks of the last confirmed batch.</summary>
    public long FlushedBytes(UserState state) =>
        _marks.TryGetValue(state, out var marks) ? marks.Counts.FromClient + marks.Counts.ToClient : 0;

    /// <summary>After Redis came back (possibly empty): the open counts of every user go in the next new batch.</summary>
    public void ResendOpenCounts() => _resendOpen = true;

    public static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);

    internal readonly record struct Marks(UserCounts Counts, long LastMs);

    /// <summary>A user of the batch with a quota in force: the script answers with the cluster's count of it, in this order.</summary>
    internal readonly record struct QuotaUser(UserState State, long Quota, int Generation, long FlushedBytes);

    internal sealed record Batch(long Sequence, RedisValue[] Values, Dictionary<UserState, Marks> NextMarks, QuotaUser[] QuotaUsers);
}
