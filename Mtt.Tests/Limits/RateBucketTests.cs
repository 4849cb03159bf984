using Microsoft.Extensions.Time.Testing;
using Mtt.Core.Limits;

namespace Mtt.Tests.Limits;

/// <summary>The token bucket on a fake clock, where its arithmetic can be checked exactly.</summary>
public sealed class RateBucketTests
{
    /// <summary>Takes what is there now; the last take is the first reservation that must wait, whose due time is given.</summary>
    private static long Drain(RateBucket bucket, out long readyAt)
    {
        long total = 0;
        while (true)
        {
            long granted = bucket.Take(1 << 20, out readyAt);
            if (readyAt != 0) return total;
            total += granted;
        }
    }

    private static double SecondsUntil(FakeTimeProvider time, long readyAt) =>
        time.GetElapsedTime(time.GetTimestamp(), readyAt).TotalSeconds;

    [Fact]
    public void AFullBucket_GrantsOneSecondsWorth_InSlices_ThenSaysHowLongToWait()
    {
        var time = new FakeTimeProvider();
        var bucket = new RateBucket(64_000, time);

        Assert.Equal(2_000, bucket.Take(1 << 20, out long first));
        Assert.Equal(0, first);
        Assert.Equal(62_000, Drain(bucket, out long readyAt));
        // The next slice (a 32nd of the rate) at 64,000 bytes a second is due in a 32nd of a second.
        Assert.Equal(2_000 / 64_000.0, SecondsUntil(time, readyAt), 6);
    }

    [Fact]
    public void ABucketRefillsAtItsRate_AndNeverAboveOneSecondsWorth()
    {
        var time = new FakeTimeProvider();
        var bucket = new RateBucket(64_000, time);
        Drain(bucket, out _);

        // 16,000 came in, less the slice reserved at the end of the drain.
        time.Advance(TimeSpan.FromMilliseconds(250));
        Assert.Equal(14_000, Drain(bucket, out _));

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(64_000, Drain(bucket, out _));
    }

    [Fact]
    public void UnusedGrants_GoBack_AndALiftedRate_GrantsEverything()
    {
        var time = new FakeTimeProvider();
        var bucket = new RateBucket(64_000, time);
        Drain(bucket, out _);
        bucket.Return(3_500);
        Assert.Equal(1_500, bucket.Take(1_500, out long readyAt));
        Assert.Equal(0, readyAt);

        bucket.SetRate(0);
        Assert.Equal(1 << 20, bucket.Take(1 << 20, out readyAt));
        Assert.Equal(0, readyAt);
    }

    [Fact]
    public void ABucketRefilling_ReservesWholeSlices_NotTheCrumbsThatTrickleIn()
    {
        var time = new FakeTimeProvider();
        var bucket = new RateBucket(64_000, time);
        Drain(bucket, out _);
        time.Advance(TimeSpan.FromMilliseconds(10));
        // 640 bytes have come in against the 2,000 reserved: a reader that wants more reserves a whole slice and
        // is told to come back when both are paid, not handed the crumbs now.
        Assert.Equal(2_000, bucket.Take(1 << 20, out long readyAt));
        Assert.Equal(3_360 / 64_000.0, SecondsUntil(time, readyAt), 6);
    }

    [Fact]
    public void ASlowRate_IsGrantedInKilobytes_NotCrumbs()
    {
        var time = new FakeTimeProvider();
        var bucket = new RateBucket(10_000, time);
        Assert.Equal(1_024, bucket.Take(1 << 20, out _));
    }

    /// <summary>
    /// Two readers of one user take turns for 10 s: one always wants a whole slice (a busy tunnel), the other
    /// reads 1,000 bytes at a time as soon as it may (a stream with small messages). Each comes back the moment
    /// its last grant was due, the earlier first. Granting whoever finds the tokens there would let the small
    /// reader take every 1,000 bytes as they trickle in and starve the other.
    /// </summary>
    [Fact]
    public void ReadersOfOneUser_TakeTurns_AndAWholeSliceIsNotStarvedBySmallReads()
    {
        const long Rate = 64_000;
        var time = new FakeTimeProvider();
        var bucket = new RateBucket(Rate, time);
        long[] want = [1 << 20, 1_000];
        long[] received = new long[2];
        var turns = new PriorityQueue<int, (long At, long Order)>();
        long order = 0;
        long end = time.GetTimestamp() + 10 * time.TimestampFrequency;
        turns.Enqueue(0, (time.GetTimestamp(), order++));
        turns.Enqueue(1, (time.GetTimestamp(), order++));

        while (turns.TryDequeue(out int reader, out var turn) && turn.At < end)
        {
            if (turn.At > time.GetTimestamp()) time.Advance(time.GetElapsedTime(time.GetTimestamp(), turn.At));
            long granted = bucket.Take(want[reader], out long readyAt);
            long due = Math.Max(readyAt, time.GetTimestamp());
            // A grant counts when it is due (a reservation, or one that must wait and be asked again, takes 0 now).
            if (granted > 0 && due < end) received[reader] += granted;
            turns.Enqueue(reader, (due, order++));
        }

        long total = received[0] + received[1];
        // Ten seconds' worth plus the first second's burst, within a slice.
        Assert.InRange(total, 11 * Rate - 2_000, 11 * Rate + 2_000);
        Assert.True(received[0] > total / 3, $"the whole-slice reader got {received[0]} of {total} bytes");
        Assert.True(received[1] > total / 5, $"the small reader got {received[1]} of {total} bytes");
    }
}
