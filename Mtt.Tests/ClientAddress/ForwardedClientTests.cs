using System.Net;
using Mtt.Core.ClientAddress;

namespace Mtt.Tests.ClientAddress;

public sealed class ForwardedClientTests
{
    private static readonly TrustedProxies Proxies = Trusted("127.0.0.1/32,10.0.0.0/8,::1/128");

    private static TrustedProxies Trusted(string text)
    {
        Assert.True(TrustedProxies.TryParse(text, out var proxies, out string error), error);
        return proxies;
    }

    private static string? Resolve(string? forwardedFor, string? realIp = null) =>
        ForwardedClient.TryResolve(forwardedFor, realIp, Proxies, out var client) ? client.ToString() : null;

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7:0")]
    // The client wrote the leftmost entry itself: only the rightmost untrusted one was written by our proxies.
    [InlineData("6.6.6.6, 203.0.113.7", "203.0.113.7:0")]
    [InlineData("6.6.6.6, 203.0.113.7, 10.0.0.5", "203.0.113.7:0")]
    [InlineData("6.6.6.6,203.0.113.7,10.0.0.5,127.0.0.1", "203.0.113.7:0")]
    [InlineData(" 203.0.113.7 ,\t10.0.0.5 ", "203.0.113.7:0")]
    // Every hop trusted: the leftmost is as far as the chain goes.
    [InlineData("10.0.0.9, 10.0.0.5", "10.0.0.9:0")]
    // Garbage stops the walk: nothing to its left is believed.
    [InlineData("203.0.113.7, unknown, 10.0.0.5", "10.0.0.5:0")]
    [InlineData("198.51.100.1, 203.0.113.7:41234", "203.0.113.7:41234")]
    [InlineData("2001:db8::7", "[2001:db8::7]:0")]
    [InlineData("[2001:db8::7]:41234, ::1", "[2001:db8::7]:41234")]
    [InlineData("[2001:db8::7]", "[2001:db8::7]:0")]
    public void ForwardedFor_IsReadFromTheRight_SkippingTrustedProxies(string header, string expected) =>
        Assert.Equal(expected, Resolve(header));

    [Theory]
    [InlineData("unknown")]
    [InlineData("")]
    [InlineData("203.0.113.7,")]
    [InlineData("1")]
    [InlineData("203.0.113.7:99999")]
    [InlineData("[2001:db8::7")]
    [InlineData("[2001:db8::7]x")]
    [InlineData("fe80::1%eth0")]
    public void ForwardedFor_WithNoUsableRightmostEntry_NamesNobody(string header) => Assert.Null(Resolve(header));

    [Fact]
    public void RealIp_IsTheFallback_AndForwardedForWins()
    {
        Assert.Equal("203.0.113.7:0", Resolve(null, " 203.0.113.7 "));
        Assert.Equal("203.0.113.7:0", Resolve("unknown", "203.0.113.7"));
        Assert.Equal("198.51.100.1:0", Resolve("198.51.100.1", "203.0.113.7"));
        Assert.Null(Resolve(null, "not-an-address"));
        Assert.Null(Resolve(null, null));
    }
}
