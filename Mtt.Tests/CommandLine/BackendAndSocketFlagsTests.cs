using System.Net.Sockets;
using Mtt.Core.ClientAddress;
using Mtt.Daemon;

namespace Mtt.Tests.CommandLine;

/// <summary>-send-proxy, -bind-unix and -fast-open as the command line reads them.</summary>
public sealed class BackendAndSocketFlagsTests
{
    private static ServerOptions Parsed(params string[] args)
    {
        var result = Mtt.Daemon.CommandLine.Parse(args);
        Assert.True(result.Options is not null, result.Error);
        return result.Options;
    }

    /// <summary>Exit 2 and the first line of the message.</summary>
    private static string Refused(params string[] args)
    {
        var result = Mtt.Daemon.CommandLine.Parse(args);
        Assert.Null(result.Options);
        Assert.Equal(2, result.ExitCode);
        Assert.NotNull(result.Error);
        return result.Error[..result.Error.IndexOf('\n')];
    }

    [Theory]
    [InlineData(new string[0], ProxyHeaderVersion.None)]
    [InlineData(new[] { "-send-proxy", "" }, ProxyHeaderVersion.None)]
    [InlineData(new[] { "-send-proxy", "v1" }, ProxyHeaderVersion.V1)]
    [InlineData(new[] { "-send-proxy=v2" }, ProxyHeaderVersion.V2)]
    public void SendProxy_IsOffOrAVersion(string[] args, ProxyHeaderVersion expected)
    {
        Assert.Equal(expected, Parsed(args).Tunnel.SendProxy);
    }

    [Theory]
    [InlineData("v3")]
    [InlineData("V1")]
    [InlineData("1")]
    [InlineData("true")]
    public void SendProxy_OtherValues_AreRefusedSayingWhatIsWanted(string value)
    {
        Assert.Equal($"invalid value \"{value}\" for flag -send-proxy: want v1 or v2 (the PROXY protocol version), or empty for no header",
            Refused("-send-proxy", value));
    }

    [Fact]
    public void BindUnix_TakesBAsThePath()
    {
        var options = Parsed("-bind-unix", "-b", "/run/mtt/tunnel.sock");
        Assert.True(options.BindUnix);
        Assert.Equal("/run/mtt/tunnel.sock", options.BindText);
        Assert.Equal("/run/mtt/tunnel.sock", Assert.IsType<UnixDomainSocketEndPoint>(options.Tunnel.Bind).ToString());
        Assert.False(Parsed().BindUnix);
    }

    [Fact]
    public void BindUnix_WithTheDefaultHostPort_IsRefused_RatherThanMakingAFileNamedLikeIt()
    {
        Assert.StartsWith("invalid value \"127.0.0.1:8443\" for flag -b: with -bind-unix, -b is the socket's path and needs a '/'", Refused("-bind-unix"));
    }

    [Theory]
    [InlineData("/run/mtt/", "names the socket file, not a directory")]
    [InlineData("tunnel.sock", "needs a '/'")]
    public void BindUnix_PathsThatCannotBeASocketFile_AreRefused(string path, string reason)
    {
        Assert.Contains(reason, Refused("-bind-unix", "-b", path));
    }

    [Fact]
    public void BindUnix_PathLongerThanSockaddrUnHolds_IsRefused()
    {
        Assert.Contains("at most 107 bytes", Refused("-bind-unix", "-b", "/" + new string('a', 107)));
        Assert.Equal("/" + new string('a', 106), Parsed("-bind-unix", "-b", "/" + new string('a', 106)).BindText);
    }

    [Fact]
    public void FastOpen_IsCarried()
    {
        Assert.True(Parsed("-fast-open").Tunnel.FastOpen);
        Assert.False(Parsed().Tunnel.FastOpen);
    }

    [Fact]
    public void Usage_DescribesTheNewFlags()
    {
        string usage = Mtt.Daemon.CommandLine.Usage;
        Assert.Contains("  -send-proxy string\n", usage);
        Assert.Contains("  -bind-unix\n", usage);
        Assert.Contains("sysctl -w net.ipv4.tcp_fastopen=3", usage);
    }
}
