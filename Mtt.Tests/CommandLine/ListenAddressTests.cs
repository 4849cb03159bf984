using Mtt.Daemon;

namespace Mtt.Tests.CommandLine;

public sealed class ListenAddressTests
{
    [Theory]
    [InlineData("127.0.0.1:8443", "127.0.0.1", 8443)]
    [InlineData("0.0.0.0:443", "0.0.0.0", 443)]
    [InlineData("localhost:8080", "localhost", 8080)]
    [InlineData("[::]:443", "::", 443)]
    [InlineData("[::1]:0", "::1", 0)]
    [InlineData(":443", "", 443)]
    [InlineData("my-host.example:65535", "my-host.example", 65535)]
    public void TryParse_AcceptsWhatGoListensOn(string text, string host, int port)
    {
        Assert.True(ListenAddress.TryParse(text, out var address, out _));
        Assert.Equal(host, address.Host);
        Assert.Equal(port, address.Port);
        Assert.Equal(host.Length == 0, address.IsAnyHost);
    }

    [Theory]
    [InlineData("")]
    [InlineData("8443")]
    [InlineData("host")]
    [InlineData("host:")]
    [InlineData("host:65536")]
    [InlineData("host:-1")]
    [InlineData("host:https")]
    [InlineData("::1:80")]
    [InlineData("[::1]")]
    [InlineData("[::1]80")]
    [InlineData("[1.2.3.4]:80")]
    [InlineData("bad host:80")]
    [InlineData("host/x:80")]
    public void TryParse_RefusesWithAReason(string text)
    {
        Assert.False(ListenAddress.TryParse(text, out _, out string? error));
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public void ToString_BracketsIpv6()
    {
        Assert.True(ListenAddress.TryParse("[::1]:443", out var address, out _));
        Assert.Equal("[::1]:443", address.ToString());
    }
}
