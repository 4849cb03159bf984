using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Mtt.Tests.Support;

namespace Mtt.Tests.Daemon;

/// <summary>SIGTERM as systemd sends it: new connections refused, open tunnels drained, the rest closed with 1001.</summary>
public sealed class DaemonDrainTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Sigterm_RefusesNewConnections_WhileAnOpenTunnelKeepsWorking_UntilItEnds_ThenExits0()
    {
        await using var backend = new EchoBackend();
        // Far beyond Bound: the daemon can only exit in time if it notices the last tunnel ending.
        await using var daemon = DaemonProcess.Start("-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-drain-timeout=5m");
        var (tunnelPort, controllerPort) = await daemon.Ports.WaitAsync(Bound);
        await AddUserAsync(controllerPort, "/u1", backend.Address);
        using var client = await ConnectAsync(tunnelPort, "/u1");
        await EchoAsync(client, "before the signal");

        await daemon.TerminateAsync();
        await daemon.WaitForStderrAsync("draining").WaitAsync(Bound);

        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAnyAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, tunnelPort).WaitAsync(Bound));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);

        await EchoAsync(client, "during the drain");
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).WaitAsync(Bound);

        Assert.Equal(0, await daemon.WaitForExitAsync(Bound));
        Assert.Contains("drained: no connection open", daemon.Stderr);
    }

    [Fact]
    public async Task Sigterm_ClosesATunnelStillOpenAfterTheDrainTimeout_With1001_ThenExits0()
    {
        await using var backend = new EchoBackend();
        await using var daemon = DaemonProcess.Start("-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-drain-timeout=200ms");
        var (tunnelPort, controllerPort) = await daemon.Ports.WaitAsync(Bound);
        await AddUserAsync(controllerPort, "/u1", backend.Address);
        using var client = await ConnectAsync(tunnelPort, "/u1");
        await EchoAsync(client, "before the signal");

        await daemon.TerminateAsync();

        var buffer = new byte[256];
        var received = await client.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(WebSocketMessageType.Close, received.MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, client.CloseStatus);
        Assert.Equal(0, await daemon.WaitForExitAsync(Bound));
        Assert.Contains("1 connections still open after the drain", daemon.Stderr);
    }

    [Fact]
    public async Task SecondSigterm_EndsTheDrainAtOnce_With1001()
    {
        await using var backend = new EchoBackend();
        await using var daemon = DaemonProcess.Start("-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-drain-timeout=5m");
        var (tunnelPort, controllerPort) = await daemon.Ports.WaitAsync(Bound);
        await AddUserAsync(controllerPort, "/u1", backend.Address);
        using var client = await ConnectAsync(tunnelPort, "/u1");
        await EchoAsync(client, "before the signals");

        await daemon.TerminateAsync();
        await daemon.WaitForStderrAsync("draining").WaitAsync(Bound);
        await daemon.TerminateAsync();

        var received = await client.ReceiveAsync(new byte[256], CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(WebSocketMessageType.Close, received.MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, client.CloseStatus);
        Assert.Equal(0, await daemon.WaitForExitAsync(Bound));
    }

    [Fact]
    public async Task Sigterm_WithNothingOpen_ExitsAtOnce()
    {
        await using var daemon = DaemonProcess.Start("-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-drain-timeout=5m");
        await daemon.Ports.WaitAsync(Bound);
        await daemon.TerminateAsync();
        Assert.Equal(0, await daemon.WaitForExitAsync(Bound));
        Assert.Contains("drained: no connection open", daemon.Stderr);
    }

    [Fact]
    public async Task Sigterm_AfterRefusedAndFailedTunnels_ExitsAtOnce_WithoutWaitingForTheDrainTimeout()
    {
        // What once hung the drain with "0 open" until systemd killed the server: connections that ended on
        // their own (a 404, a backend refusing) before the signal.
        using var refusing = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        refusing.Bind(new IPEndPoint(IPAddress.Loopback, 0)); // bound, never listening: connecting is refused
        await using var daemon = DaemonProcess.Start("-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-drain-timeout=5m");
        var (tunnelPort, controllerPort) = await daemon.Ports.WaitAsync(Bound);
        await AddUserAsync(controllerPort, "/u1", $"127.0.0.1:{((IPEndPoint)refusing.LocalEndPoint!).Port}");

        for (int round = 0; round < 3; round++)
        {
            using var failed = await ConnectAsync(tunnelPort, "/u1");
            var closed = await failed.ReceiveAsync(new byte[256], CancellationToken.None).WaitAsync(Bound);
            Assert.Equal(WebSocketMessageType.Close, closed.MessageType);
            Assert.Equal(WebSocketCloseStatus.InternalServerError, failed.CloseStatus);
            using var unknown = new ClientWebSocket();
            await Assert.ThrowsAsync<WebSocketException>(() => unknown.ConnectAsync(new Uri($"ws://127.0.0.1:{tunnelPort}/nobody"), CancellationToken.None).WaitAsync(Bound));
        }

        await daemon.TerminateAsync();
        Assert.Equal(0, await daemon.WaitForExitAsync(Bound));
        Assert.Contains("stopping", daemon.Stderr);
    }

    [Fact]
    public async Task OnEveryInterface_AnIPv4ClientIsLoggedAsIPv4_NotAsAnIPv6MappedAddress()
    {
        using var refusing = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        refusing.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        await using var daemon = DaemonProcess.Start("-b", ":0", "-c", "127.0.0.1:0");
        var (tunnelPort, controllerPort) = await daemon.Ports.WaitAsync(Bound);
        await AddUserAsync(controllerPort, "/u1", $"127.0.0.1:{((IPEndPoint)refusing.LocalEndPoint!).Port}");

        using var failed = await ConnectAsync(tunnelPort, "/u1");
        await failed.ReceiveAsync(new byte[256], CancellationToken.None).WaitAsync(Bound);
        await daemon.WaitForStderrAsync("closed the tunnel with 1011").WaitAsync(Bound);
        Assert.Matches(@"WARN 127\.0\.0\.1:\d+: user ", daemon.Stderr);
        Assert.DoesNotContain("::ffff:", daemon.Stderr);
    }

    internal static async Task AddUserAsync(int controllerPort, string path, string backend, string? token = null)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{controllerPort}")
        {
            Content = new StringContent($$"""{"opt":1,"args_bunch":[{"path":"{{path}}","dst":"{{backend}}"}]}""", Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        if (token is not null) request.Headers.Authorization = new("Bearer", token);
        var reply = await http.SendAsync(request).WaitAsync(Bound);
        Assert.Equal("""{"res":1}""", await reply.Content.ReadAsStringAsync());
    }

    private static async Task<ClientWebSocket> ConnectAsync(int tunnelPort, string path)
    {
        var client = new ClientWebSocket();
        client.Options.AddSubProtocol("smux_off");
        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{tunnelPort}{path}"), CancellationToken.None).WaitAsync(Bound);
        return client;
    }

    internal static async Task EchoAsync(WebSocket client, string text)
    {
        var message = Encoding.ASCII.GetBytes(text);
        await client.SendAsync(message, WebSocketMessageType.Binary, true, CancellationToken.None).WaitAsync(Bound);
        var buffer = new byte[256];
        var received = await client.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(message, buffer.AsSpan(0, received.Count).ToArray());
    }
}
