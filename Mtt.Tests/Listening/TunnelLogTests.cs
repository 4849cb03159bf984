using System.Net;
using System.Net.WebSockets;
using Mtt.Tests.Support;

namespace Mtt.Tests.Listening;

/// <summary>What the log says about tunnels: one line at open and one at close with -verbose, naming the user by name or hash, never by path otherwise.</summary>
public sealed class TunnelLogTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static async Task EchoAndCloseAsync(ServerWithController server, string path)
    {
        using var client = new ClientWebSocket();
        client.Options.AddSubProtocol("smux_off");
        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{server.TunnelPort}{path}"), CancellationToken.None).WaitAsync(Bound);
        await client.SendAsync(new byte[12], WebSocketMessageType.Binary, true, CancellationToken.None).WaitAsync(Bound);
        var buffer = new byte[12];
        int received = 0;
        while (received < 12) received += (await client.ReceiveAsync(buffer.AsMemory(received), CancellationToken.None).AsTask().WaitAsync(Bound)).Count;
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).WaitAsync(Bound);
    }

    /// <summary>A tunnel logs its end before its connection is done: once every connection is, the line is there or never will be.</summary>
    private static async Task WaitForLogAsync(ServerWithController server, string text)
    {
        await server.AllTunnelsEndedAsync();
        Assert.True(server.LogText.Contains(text), $"no \"{text}\" in the log:\n{server.LogText}");
    }

    [Fact]
    public async Task Verbose_LogsOpenAndClose_WithUserBytesDurationAndReason()
    {
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start(verbose: true);
        await server.CommandAsync($$"""{"opt":1,"args_bunch":[{"path":"/named-secret","dst":"{{backend.Address}}","name":"acct-5"},{"path":"/anon-secret","dst":"{{backend.Address}}"}]}""");
        server.Routes.Current.TryGet("/anon-secret", out var anonymous);

        await EchoAndCloseAsync(server, "/named-secret");
        await EchoAndCloseAsync(server, "/anon-secret");
        await WaitForLogAsync(server, $"tunnel closed for user {anonymous.Label}");

        string log = server.LogText;
        Assert.Matches(@"127\.0\.0\.1:\d+: tunnel open for user acct-5 to 127\.0\.0\.1:\d+", log);
        Assert.Matches(@"127\.0\.0\.1:\d+: tunnel closed for user acct-5 \(ClientClosed\) after \d+\.\d s, 12 bytes from the client, 12 bytes to it", log);
        Assert.Contains($"tunnel open for user {anonymous.Label} to", log);
    }

    [Fact]
    public async Task NotVerbose_NoTunnelLines_NoPaths_ButErrorsNameTheUser()
    {
        int closedPort;
        using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closedPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start();
        await server.CommandAsync($$"""{"opt":1,"args_bunch":[{"path":"/ok-secret","dst":"{{backend.Address}}"},{"path":"/dead-secret","dst":"127.0.0.1:{{closedPort}}","name":"acct-dead"}]}""");
        await EchoAndCloseAsync(server, "/ok-secret");
        await using (var client = await RawWebSocketClient.ConnectAsync(server.TunnelPort))
        {
            Assert.Equal(101, (await client.UpgradeAsync("/dead-secret").WaitAsync(Bound)).Status);
            Assert.Equal((ushort)1011, await client.ReadUntilCloseAsync().WaitAsync(Bound));
        }
        await WaitForLogAsync(server, "user acct-dead: backend");

        string log = server.LogText;
        Assert.DoesNotContain("secret", log);
        Assert.DoesNotContain("tunnel open", log);
        Assert.Contains($"user acct-dead: backend 127.0.0.1:{closedPort} failed: connection refused", log);
    }

    /// <summary>Sends the whole request head and resets the connection at once, before the server can answer it.</summary>
    private static async Task SendHeadAndResetAsync(int port, string head)
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port).WaitAsync(Bound);
        await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes(head)).WaitAsync(Bound);
        // Linger 0: the close is a reset, and the server's 101 or 4xx meets a connection that is gone.
        socket.LingerState = new System.Net.Sockets.LingerOption(true, 0);
    }

    [Fact]
    public async Task ClientResettingRightAfterItsRequest_IsANormalEnd_NoErrorLogged()
    {
        // The reset has to land between the server reading the head and flushing its answer: a race, so
        // each kind of client goes several times (bounded; a few rounds made it certain before the fix).
        const int Rounds = 20;
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start(verbose: true);
        await server.CommandAsync($$"""{"opt":1,"args_bunch":[{"path":"/gone","dst":"{{backend.Address}}"}]}""");

        for (int round = 0; round < Rounds; round++)
        {
            await SendHeadAndResetAsync(server.TunnelPort, RawWebSocketClient.GoClientHead("/gone", "smux_off"));
            await SendHeadAndResetAsync(server.TunnelPort, RawWebSocketClient.GoClientHead("/gone", "smux_on"));
            await SendHeadAndResetAsync(server.TunnelPort, RawWebSocketClient.GoClientHead("/nobody"));
        }
        await server.AllTunnelsEndedAsync();

        string log = server.LogText;
        Assert.DoesNotContain(" ERROR ", log);
        Assert.DoesNotContain(" WARN ", log);
    }

    [Fact]
    public async Task Verbose_AKickedTunnel_SaysWhy()
    {
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start(verbose: true);
        await server.CommandAsync($$"""{"opt":1,"args_bunch":[{"path":"/k","dst":"{{backend.Address}}","name":"kicked"}]}""");
        using var client = new ClientWebSocket();
        client.Options.AddSubProtocol("smux_off");
        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{server.TunnelPort}/k"), CancellationToken.None).WaitAsync(Bound);
        await server.CommandAsync("""{"opt":2,"args_bunch":[{"path":"/k"}]}""");
        var result = await client.ReceiveAsync(new byte[16], CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, result.CloseStatus);
        await WaitForLogAsync(server, "tunnel closed for user kicked (UserRemoved)");
    }
}
