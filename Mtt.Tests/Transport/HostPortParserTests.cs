using Mtt.Core.Transport;
using Mtt.Daemon;

namespace Mtt.Tests.Transport;

/// <summary>
/// A user's dst and a listener's address share one parser; each keeps its own words, which an operator reads in
/// the controller's err_string or on the daemon's command line.
/// </summary>
public sealed class HostPortParserTests
{
    private static readonly string LongestName = string.Join('.', Enumerable.Repeat(new string('a', 63), 4))[..253];

    [Theory]
    [InlineData("", "dst is empty")]
    [InlineData("127.0.0.1", "dst must be host:port")]
    [InlineData(":80", "dst must be host:port")]
    [InlineData("[::1]", "dst must be [ipv6]:port")]
    [InlineData("[::1]80", "dst must be [ipv6]:port")]
    [InlineData("[::1:80", "dst must be [ipv6]:port")]
    [InlineData("[1.2.3.4]:80", "dst has an invalid IPv6 address")]
    [InlineData("::1:80", "dst with an IPv6 address needs brackets: [ipv6]:port")]
    [InlineData(":a:80", "dst with an IPv6 address needs brackets: [ipv6]:port")]
    [InlineData("bad host:80", "dst has an invalid host name")]
    [InlineData("host:0", "dst port must be 1-65535")]
    [InlineData("host:65536", "dst port must be 1-65535")]
    [InlineData("host:+80", "dst port must be 1-65535")]
    [InlineData("host:", "dst port must be 1-65535")]
    [InlineData("[::1]:080000", "dst port must be 1-65535")]
    public void Dst_IsRefusedInTheControllersWords(string text, string error)
    {
        Assert.False(BackendAddress.TryParse(text, out _, out string? actual));
        Assert.Equal(error, actual);
    }

    [Theory]
    [InlineData("", "address is empty, want host:port")]
    [InlineData("8443", "missing port, want host:port")]
    [InlineData("[::1]", "want [ipv6]:port")]
    [InlineData("[1.2.3.4]:80", "'1.2.3.4' is not an IPv6 address")]
    [InlineData("::1:80", "an IPv6 address needs brackets: [ipv6]:port")]
    [InlineData("bad host:80", "'bad host' is not a valid host name")]
    [InlineData("host:65536", "port '65536' must be a number from 0 to 65535")]
    [InlineData("[::1]:8:0", "port '8:0' must be a number from 0 to 65535")]
    [InlineData("host:", "port '' must be a number from 0 to 65535")]
    public void ListenAddress_IsRefusedInTheCommandLinesWords(string text, string error)
    {
        Assert.False(ListenAddress.TryParse(text, out _, out string? actual));
        Assert.Equal(error, actual);
    }

    [Theory]
    [InlineData("127.0.0.1:1", "127.0.0.1", 1)]
    [InlineData("[::1]:65535", "::1", 65535)]
    [InlineData("backend.local:8080", "backend.local", 8080)]
    [InlineData("svc_name-1:443", "svc_name-1", 443)]
    public void Dst_AcceptsHostNamesAndBothAddressFamilies(string text, string host, int port)
    {
        Assert.True(BackendAddress.TryParse(text, out var address, out _));
        Assert.Equal(new BackendAddress(host, port), address);
        Assert.Equal(text, address.ToString());
    }

    [Fact]
    public void Dst_TakesTheLongestDnsName_AndRefusesTextBeyondTheLimit()
    {
        Assert.True(BackendAddress.TryParse(LongestName + ":65535", out var address, out _));
        Assert.Equal(LongestName, address.Host);

        Assert.False(BackendAddress.TryParse(new string('a', 260) + ":1", out _, out string? error));
        Assert.Equal("dst is too long", error);
    }

    [Fact]
    public void AHostNameLongerThanDnsAllows_IsRefusedByBoth()
    {
        string tooLong = "a" + LongestName;

        Assert.False(BackendAddress.TryParse(tooLong + ":1", out _, out string? dstError));
        Assert.Equal("dst has an invalid host name", dstError);
        Assert.False(ListenAddress.TryParse(tooLong + ":1", out _, out string? listenError));
        Assert.Equal($"'{tooLong}' is not a valid host name", listenError);
    }
}
