using Mtt.Core.Limits;

namespace Mtt.Tests.Limits;

public sealed class LimitFieldReaderTests
{
    [Theory]
    [InlineData("2026-12-31T23:59:59Z", "2026-12-31T23:59:59+00:00")]
    [InlineData("2026-12-31T23:59:59.5+02:00", "2026-12-31T23:59:59.5+02:00")]
    [InlineData("2026-12-31t23:59:59z", "2026-12-31T23:59:59+00:00")]
    [InlineData("2026-12-31 23:59:59-05:30", "2026-12-31T23:59:59-05:30")]
    public void Rfc3339Times_Parse(string text, string expected)
    {
        Assert.True(LimitFieldReader.TryTime("expires", text, out var value, out _));
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), value);
    }

    [Theory]
    [InlineData("tomorrow")]
    [InlineData("2026-12-31")]
    [InlineData("2026-12-31T23:59:59")]
    [InlineData("2026-13-01T00:00:00Z")]
    [InlineData("12/31/2026 23:59:59 +00:00")]
    [InlineData("")]
    [InlineData(null)]
    public void OtherTexts_AreRefused_NamingTheField(string? text)
    {
        Assert.False(LimitFieldReader.TryTime("expires", text, out _, out var reason));
        Assert.StartsWith("expires must be an RFC 3339 time", reason);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1.5)]
    [InlineData(1_000_001)]
    public void CountsOutOfRange_OrNotWhole_AreRefused(double number)
    {
        Assert.False(LimitFieldReader.TryPositive("max_conns", (decimal)number, UserLimits.MaxCount, out _, out var reason));
        Assert.StartsWith("max_conns must be", reason);
    }
}
