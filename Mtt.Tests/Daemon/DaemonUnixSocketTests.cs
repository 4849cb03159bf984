using System.Net.WebSockets;
using System.Runtime.Versioning;
using Mtt.Core.Listening;
using Mtt.Tests.Support;

namespace Mtt.Tests.Daemon;

/// <summary>-bind-unix: the tunnel listener on a Unix socket, for nginx or HAProxy on the same host.</summary>
[UnsupportedOSPlatform("windows")]
public sealed class DaemonUnixSocketTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static DaemonProcess StartOn(string path) => DaemonProcess.Start("-bind-unix", "-b", path, "-c", "127.0.0.1:0");

    private static Task ListeningOn(DaemonProcess daemon, string path) =>
        daemon.WaitForStderrAsync($"tunnel listener on unix socket {path} (").WaitAsync(Bound);

    [Fact]
    public async Task UnixSocket_ServesAWebSocketTunnel_IsOpenToTheFrontProxy_AndIsRemovedOnSigterm()
    {
        using var directory = new TemporaryDirectory();
        string path = directory.File("tunnel.sock");
        await using var backend = new EchoBackend();
        await using var daemon = StartOn(path);
        int controllerPort = await daemon.ControllerPort.WaitAsync(Bound);
        await ListeningOn(daemon, path);
        Assert.Equal(UnixSocketFile.Mode, File.GetUnixFileMode(path));
        await DaemonDrainTests.AddUserAsync(controllerPort, "/u1", backend.Address);

        using (var client = await SocketWebSocketClient.ConnectAsync(new Uri("ws://localhost/u1"), "smux_off", path))
        {
            Assert.Equal("smux_off", client.WebSocket.SubProtocol);
            await DaemonDrainTests.EchoAsync(client.WebSocket, "through the socket file");
            await client.WebSocket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).WaitAsync(Bound);
        }

        await daemon.TerminateAsync();
        Assert.Equal(0, await daemon.WaitForExitAsync(Bound));
        Assert.Equal(UnixPathKind.Missing, UnixSocketFile.Inspect(path));
    }

    [Fact]
    public async Task RegularFileAtThePath_IsNotDeleted_AndTheStartFailsSayingWhy()
    {
        using var directory = new TemporaryDirectory();
        string path = directory.Write("tunnel.sock", "not a socket");
        await using var daemon = StartOn(path);

        Assert.NotEqual(0, await daemon.WaitForExitAsync(Bound));
        Assert.Contains($"{path} exists and is not a socket", daemon.Stderr);
        Assert.Equal("not a socket", await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task SocketLeftByAKilledServer_IsReplaced_OnTheNextStart()
    {
        using var directory = new TemporaryDirectory();
        string path = directory.File("tunnel.sock");
        await using (var crashed = StartOn(path))
        {
            await ListeningOn(crashed, path);
            await crashed.KillAsync();
        }
        Assert.Equal(UnixPathKind.Socket, UnixSocketFile.Inspect(path));

        await using var next = StartOn(path);
        await ListeningOn(next, path);
        await next.TerminateAsync();
        Assert.Equal(0, await next.WaitForExitAsync(Bound));
    }
}
