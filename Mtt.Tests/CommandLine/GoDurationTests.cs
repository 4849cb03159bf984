using Mtt.Daemon;

namespace Mtt.Tests.CommandLine;

public sealed class GoDurationTests
{
    // Go's own time.ParseDuration examples, in 100 ns ticks.
    public static TheoryData<string, long> Valid => new()
    {
        { "0", 0 },
        { "-0", 0 },
        { "+0", 0 },
        { "5s", 5 * TimeSpan.TicksPerSecond },
        { "30s", 30 * TimeSpan.TicksPerSecond },
        { "1478s", 1478 * TimeSpan.TicksPerSecond },
        { "-5s", -5 * TimeSpan.TicksPerSecond },
        { "+5s", 5 * TimeSpan.TicksPerSecond },
        { "-0s", 0 },
        { "5.0s", 5 * TimeSpan.TicksPerSecond },
        { "5.6s", 56 * TimeSpan.TicksPerSecond / 10 },
        { "5.s", 5 * TimeSpan.TicksPerSecond },
        { ".5s", TimeSpan.TicksPerSecond / 2 },
        { "1.004s", 1004 * TimeSpan.TicksPerMillisecond },
        { "100.00100s", 100 * TimeSpan.TicksPerSecond + TimeSpan.TicksPerMillisecond },
        { "300ms", 300 * TimeSpan.TicksPerMillisecond },
        { "200ns", 2 }, // one tick is 100 ns
        { "150ns", 1 }, // truncated to whole ticks
        { "1ns", 0 },
        { "11us", 110 },
        { "12µs", 120 },  // U+00B5
        { "12μs", 120 },  // U+03BC
        { "13ms", 13 * TimeSpan.TicksPerMillisecond },
        { "14s", 14 * TimeSpan.TicksPerSecond },
        { "15m", 15 * TimeSpan.TicksPerMinute },
        { "16h", 16 * TimeSpan.TicksPerHour },
        { "1.5h", 90 * TimeSpan.TicksPerMinute },
        { "1m0s", TimeSpan.TicksPerMinute },
        { "3h30m", 210 * TimeSpan.TicksPerMinute },
        { "1h2m3s", TimeSpan.TicksPerHour + 2 * TimeSpan.TicksPerMinute + 3 * TimeSpan.TicksPerSecond },
        { "10.5s4m", 4 * TimeSpan.TicksPerMinute + 105 * TimeSpan.TicksPerSecond / 10 },
        { "-2m3.4s", -(2 * TimeSpan.TicksPerMinute + 34 * TimeSpan.TicksPerSecond / 10) },
        { "1h2m3s4ms5us6ns", TimeSpan.TicksPerHour + 2 * TimeSpan.TicksPerMinute + 3 * TimeSpan.TicksPerSecond + 4 * TimeSpan.TicksPerMillisecond + 50 },
        { "39h9m14.425s", 39 * TimeSpan.TicksPerHour + 9 * TimeSpan.TicksPerMinute + 14425 * TimeSpan.TicksPerMillisecond },
        { "52763797000ns", 527637970 },
        { "0.3333333333333333333h", 20 * TimeSpan.TicksPerMinute },
        { "0.100000000000000000000h", 6 * TimeSpan.TicksPerMinute },
        { "9223372036854775807ns", 92233720368547758 },
        { "9223372036854775.807us", 92233720368547758 },
        { "9223372036s854ms775us807ns", 92233720368547758 },
        { "-9223372036s854ms775us808ns", -92233720368547758 },
        { "-9223372036854775808ns", -92233720368547758 },
    };

    [Theory]
    [MemberData(nameof(Valid))]
    public void TryParse_AcceptsGoSyntax(string text, long ticks)
    {
        Assert.True(GoDuration.TryParse(text, out var value));
        Assert.Equal(ticks, value.Ticks);
    }

    [Theory]
    [InlineData("")]
    [InlineData("3")]     // a number needs a unit, except 0
    [InlineData("-")]
    [InlineData("s")]
    [InlineData(".")]
    [InlineData("-.")]
    [InlineData(".s")]
    [InlineData("+.s")]
    [InlineData("1d")]    // Go has no days
    [InlineData("1S")]    // units are case-sensitive
    [InlineData("1 s")]
    [InlineData(" 1s")]
    [InlineData("1s ")]
    [InlineData("1h 30m")]
    [InlineData("1e3s")]
    [InlineData("--1s")]
    [InlineData("1.2.3s")]
    [InlineData("\u0085\u0085")]
    [InlineData("9223372036854775808ns")]      // one past Go's int64
    [InlineData("9223372036854775.808us")]
    [InlineData("9223372036s854ms775us808ns")]
    [InlineData("-9223372036854775809ns")]
    [InlineData("3000000h")]                   // past 292 years
    public void TryParse_RefusesWhatGoRefuses(string text)
    {
        Assert.False(GoDuration.TryParse(text, out _));
    }

    [Fact]
    public void TryParse_RefusesNull()
    {
        Assert.False(GoDuration.TryParse(null, out _));
    }

    // Go's Duration.String examples, at 100 ns resolution.
    public static TheoryData<long, string> Formats => new()
    {
        { 0, "0s" },
        { 1, "100ns" },
        { 11, "1.1µs" },
        { 22 * TimeSpan.TicksPerMillisecond / 10, "2.2ms" },
        { 33 * TimeSpan.TicksPerSecond / 10, "3.3s" },
        { 4 * TimeSpan.TicksPerMinute + 5 * TimeSpan.TicksPerSecond, "4m5s" },
        { 4 * TimeSpan.TicksPerMinute + 5001 * TimeSpan.TicksPerMillisecond, "4m5.001s" },
        { 5 * TimeSpan.TicksPerHour + 6 * TimeSpan.TicksPerMinute + 7001 * TimeSpan.TicksPerMillisecond, "5h6m7.001s" },
        { 8 * TimeSpan.TicksPerMinute + 1, "8m0.0000001s" },
        { TimeSpan.TicksPerMinute, "1m0s" },
        { TimeSpan.TicksPerHour, "1h0m0s" },
        { 30 * TimeSpan.TicksPerSecond, "30s" },
        { 300 * TimeSpan.TicksPerMillisecond, "300ms" },
        { -TimeSpan.TicksPerSecond, "-1s" },
        { -15 * TimeSpan.TicksPerMillisecond / 10, "-1.5ms" },
        { 92233720368547758, "2562047h47m16.8547758s" },
        { TimeSpan.MaxValue.Ticks, "256204778h48m5.4775807s" },
        { TimeSpan.MinValue.Ticks, "-256204778h48m5.4775808s" },
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public void Format_WritesLikeGosDurationString(long ticks, string expected)
    {
        Assert.Equal(expected, GoDuration.Format(TimeSpan.FromTicks(ticks)));
    }

    [Theory]
    [InlineData("1m0s")]
    [InlineData("1h2m3s")]
    [InlineData("1.5µs")]
    [InlineData("-2m3.4s")]
    [InlineData("999.9999ms")]
    public void Format_OfParsed_RoundTrips(string text)
    {
        Assert.True(GoDuration.TryParse(text, out var value));
        Assert.Equal(text, GoDuration.Format(value));
    }
}
