using System.Net;
using Mtt.Daemon;

namespace Mtt.Tests.CommandLine;

/// <summary>-proxy-protocol and -trusted-proxy: parsed into the options, a bad range refused at start with exit 2.</summary>
public sealed class ClientAddressFlagsTests
{
    private static ServerOptions Parsed(params string[] args)
    {
        var result = Mtt.Daemon.CommandLine.Parse(args);
        Assert.True(result.Options is not null, result.Error);
        return result.Options;
    }

    [Fact]
    public void Defaults_NoProxyHeader_NobodyTrusted()
    {
        var options = Parsed();
        Assert.False(options.Tunnel.RequireProxyHeader);
        Assert.Null(options.Tunnel.TrustedProxies);
    }

    [Theory]
    [InlineData("-proxy-protocol")]
    [InlineData("--proxy-protocol=true")]
    public void ProxyProtocol_IsABoolFlag(string arg) => Assert.True(Parsed(arg).Tunnel.RequireProxyHeader);

    [Fact]
    public void TrustedProxy_ParsesEveryRange()
    {
        var trusted = Parsed("-trusted-proxy", "127.0.0.1/32,10.0.0.0/8,::1/128").Tunnel.TrustedProxies;
        Assert.NotNull(trusted);
        Assert.Equal(3, trusted.Networks.Count);
        Assert.True(trusted.Contains(IPAddress.Parse("10.1.2.3")));
        Assert.False(trusted.Contains(IPAddress.Parse("192.0.2.1")));
    }

    [Fact]
    public void EmptyTrustedProxy_TrustsNobody() => Assert.Null(Parsed("-trusted-proxy=").Tunnel.TrustedProxies);

    [Theory]
    [InlineData("10.0.0.0/33", "the prefix length must be 0 to 32")]
    [InlineData("10.0.0.1/8", "did you mean 10.0.0.0/8")]
    [InlineData("10.0.0.0/8,,::1", "an empty entry")]
    [InlineData("proxy.example.com", "not an IPv4 or IPv6 address")]
    public void BadTrustedProxy_ExitsWith2_NamingTheFlagAndTheReason(string value, string reason)
    {
        var result = Mtt.Daemon.CommandLine.Parse(["-trusted-proxy", value]);
        Assert.Null(result.Options);
        Assert.Equal(2, result.ExitCode);
        Assert.NotNull(result.Error);
        string firstLine = result.Error[..result.Error.IndexOf('\n')];
        Assert.StartsWith($"invalid value \"{value}\" for flag -trusted-proxy: ", firstLine);
        Assert.Contains(reason, firstLine);
    }

    [Fact]
    public void Usage_ListsBothFlags()
    {
        Assert.Contains("  -proxy-protocol\n", Mtt.Daemon.CommandLine.Usage);
        Assert.Contains("  -trusted-proxy string\n", Mtt.Daemon.CommandLine.Usage);
    }
}
