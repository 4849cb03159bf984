using System.Net;
using Mtt.Core.ClientAddress;

namespace Mtt.Tests.ClientAddress;

public sealed class TrustedProxiesTests
{
    private static TrustedProxies Parse(string text)
    {
        Assert.True(TrustedProxies.TryParse(text, out var proxies, out string error), error);
        return proxies;
    }

    [Fact]
    public void IPv4AndIPv6Ranges_ContainTheirAddresses_AndNoOthers()
    {
        var proxies = Parse("127.0.0.1/32, 10.0.0.0/8,::1/128,2001:db8::/32");
        Assert.Equal(4, proxies.Networks.Count);
        foreach (var inside in new[] { "127.0.0.1", "10.0.0.0", "10.255.255.255", "::1", "2001:db8::7", "2001:db8:ffff::1" })
            Assert.True(proxies.Contains(IPAddress.Parse(inside)), inside);
        foreach (var outside in new[] { "127.0.0.2", "11.0.0.1", "9.255.255.255", "::2", "2001:db9::1", "::ffff:11.0.0.1" })
            Assert.False(proxies.Contains(IPAddress.Parse(outside)), outside);
    }

    [Fact]
    public void IPv4MappedPeer_OfADualStackListener_MatchesItsIPv4Range() =>
        Assert.True(Parse("127.0.0.0/8").Contains(IPAddress.Parse("::ffff:127.0.0.1")));

    [Theory]
    [InlineData("192.0.2.1", "192.0.2.1", "192.0.2.2")]
    [InlineData("::1", "::1", "::2")]
    [InlineData("0.0.0.0/0", "198.51.100.9", "::1")]
    [InlineData("::/0", "2001:db8::1", "10.0.0.1")]
    public void BareAddressIsOneHost_AndZeroPrefixIsTheWholeFamily(string text, string inside, string outside)
    {
        var proxies = Parse(text);
        Assert.True(proxies.Contains(IPAddress.Parse(inside)));
        Assert.False(proxies.Contains(IPAddress.Parse(outside)));
    }

    [Theory]
    [InlineData("", "empty entry")]
    [InlineData("10.0.0.0/8,", "empty entry")]
    [InlineData("10.0.0.0/8,,::1", "empty entry")]
    [InlineData("10.0.0.0/33", "prefix length must be 0 to 32")]
    [InlineData("::1/129", "prefix length must be 0 to 128")]
    [InlineData("10.0.0.0/-1", "prefix length")]
    [InlineData("10.0.0.0/", "prefix length")]
    [InlineData("10.0.0.0/8/8", "prefix length")]
    [InlineData("10.0.0.1/8", "did you mean 10.0.0.0/8 (the range) or 10.0.0.1/32 (the one host)?")]
    [InlineData("2001:db8::1/32", "did you mean 2001:db8::/32")]
    [InlineData("localhost", "not an IPv4 or IPv6 address")]
    [InlineData("10.0.0/8", "not an IPv4 or IPv6 address")]
    [InlineData("010.0.0.0/8", "not an IPv4 or IPv6 address")]
    [InlineData("fe80::1%eth0/64", "not an IPv4 or IPv6 address")]
    public void BadEntry_IsRefused_WithAClearReason(string text, string reason)
    {
        Assert.False(TrustedProxies.TryParse(text, out _, out string error));
        Assert.Contains(reason, error);
    }
}
