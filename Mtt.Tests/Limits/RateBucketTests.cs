using Microsoft.Extensions.Time.Testing;
using Mtt.Core.Limits;

namespace Mtt.Tests.Limits;

/// <summary>The token bucket on a fake clock, where its arithmetic can be checked exactly.</summary>
public sealed class RateBucketTests
{
    private static long Drain(RateBucket bucket, out long readyAt)
    {
        long total = 0;
        while (true)
        {
            long granted = bucket.Take(1 << 20, out readyAt);
            if (granted == 0) return total;
            total += granted;
        }
    }

    [Fact]
    public void AFullBucket_GrantsOneSecondsWorth_InSlices_ThenSaysHowLongToWait()
    {
        var time = new FakeTimeProvider();
        var bucket = new RateBucket(64_000, time);

        Assert.Equal(2_000, bucket.Take(1 << 20, out _));
        Assert.Equal(62_000, Drain(bucket, out long readyAt));
        // One slice (a 32nd of the rate) at 64,000 bytes a second.
        Assert.Equal(2_000 / 64_000.0, time.GetElapsedTime(time.GetTimestamp(), readyAt).TotalSeconds, 6);
    }

    [Fact]
    public void ABucketRefillsAtItsRate_AndNeverAboveOneSecondsWorth()
    {
        var time = new FakeTimeProvider();
        var bucket = new RateBucket(64_000, time);
        Drain(bucket, out _);

        time.Advance(TimeSpan.FromMilliseconds(250));
        Assert.Equal(16_000, Drain(bucket, out _));

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(64_000, Drain(bucket, out _));
    }

    [Fact]
    public void UnusedGrants_GoBack_AndALiftedRate_GrantsEverything()
    {
        var time = new FakeTimeProvider();
        var bucket = new RateBucket(64_000, time);
        Drain(bucket, out _);
        bucket.Return(1_500);
        Assert.Equal(1_500, bucket.Take(1_500, out _));

        bucket.SetRate(0);
        Assert.Equal(1 << 20, bucket.Take(1 << 20, out _));
    }

    [Fact]
    public void ABucketRefilling_GrantsWholeSlicesOnly_NotTheCrumbsThatTrickleIn()
    {
        var time = new FakeTimeProvider();
        var bucket = new RateBucket(64_000, time);
        Drain(bucket, out _);
        time.Advance(TimeSpan.FromMilliseconds(10));
        // 640 bytes have come in: less than a slice (2,000), so a reader that wants more waits for the rest.
        Assert.Equal(0, bucket.Take(1 << 20, out long readyAt));
        Assert.Equal(1_360 / 64_000.0, time.GetElapsedTime(time.GetTimestamp(), readyAt).TotalSeconds, 6);
        Assert.Equal(640, bucket.Take(640, out _));
    }

    [Fact]
    public void ASlowRate_IsGrantedInKilobytes_NotCrumbs()
    {
        var time = new FakeTimeProvider();
        var bucket = new RateBucket(10_000, time);
        Assert.Equal(1_024, bucket.Take(1 << 20, out _));
    }
}
