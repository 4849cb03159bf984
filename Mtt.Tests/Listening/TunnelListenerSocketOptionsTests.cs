using System.Net;
using System.Net.Sockets;
using Mtt.Core.Diagnostics;
using Mtt.Core.Listening;
using Mtt.Core.Routing;
using Mtt.Core.Transport;
using Mtt.Tests.Support;

namespace Mtt.Tests.Listening;

/// <summary>-fast-open on the listening socket, and its warnings.</summary>
public sealed class TunnelListenerSocketOptionsTests
{
    private static async Task<(int QueueLength, string Log)> ListenAsync(bool fastOpen, EndPoint? bind = null)
    {
        var log = new StringWriter();
        await using var listener = new TunnelListener(
            new TunnelServerOptions { Bind = bind ?? new IPEndPoint(IPAddress.Loopback, 0), FastOpen = fastOpen }, new RouteStore(), new ServerLog(log, verbose: false));
        listener.Start();
        int queueLength = listener.Socket.AddressFamily == AddressFamily.Unix ? -1 : TcpFastOpen.ReadQueueLength(listener.Socket);
        return (queueLength, log.ToString());
    }

    [Fact]
    public async Task FastOpen_SetsTcpFastOpenOnTheListeningSocket_WithTheNamedQueueLength()
    {
        var (queueLength, _) = await ListenAsync(fastOpen: true);
        Assert.Equal(TcpFastOpen.QueueLength, queueLength);
    }

    [Fact]
    public async Task WithoutFastOpen_TheListeningSocketHasNone()
    {
        var (queueLength, log) = await ListenAsync(fastOpen: false);
        Assert.Equal(0, queueLength);
        Assert.DoesNotContain("fast-open", log);
    }

    [Fact]
    public async Task FastOpen_WarnsNamingTheSysctl_ExactlyWhenTheHostLacksTheServerBit()
    {
        var (_, log) = await ListenAsync(fastOpen: true);
        bool serverBit = TcpFastOpen.ServerEnabled(await File.ReadAllTextAsync(TcpFastOpen.SysctlPath)) == true;
        Assert.Equal(!serverBit, log.Contains("sysctl -w net.ipv4.tcp_fastopen=3", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FastOpen_OnAUnixSocket_IsAWarning_NotAFailure()
    {
        using var directory = new TemporaryDirectory();
        var (_, log) = await ListenAsync(fastOpen: true, new UnixDomainSocketEndPoint(directory.File("t.sock")));
        Assert.Contains("-fast-open: TCP Fast Open does not apply to a Unix socket", log);
    }

    [Theory]
    [InlineData("0\n", false)]
    [InlineData("1\n", false)]
    [InlineData("2\n", true)]
    [InlineData("3\n", true)]
    [InlineData("1025\n", false)]
    [InlineData("1031", true)]
    public void ServerBit_IsReadFromTheSysctlsMask(string text, bool enabled)
    {
        Assert.Equal(enabled, TcpFastOpen.ServerEnabled(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("on")]
    [InlineData("-1")]
    public void UnreadableSysctl_IsNeitherYesNorNo(string text)
    {
        Assert.Null(TcpFastOpen.ServerEnabled(text));
    }
}
