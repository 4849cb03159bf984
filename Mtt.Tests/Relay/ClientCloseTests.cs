using System.Net;
using System.Net.Sockets;
using Mtt.Core.Transport;
using Mtt.Tests.Support;

namespace Mtt.Tests.Relay;

/// <summary>
/// A plain tunnel ends as soon as its client closes (docs/protocol.md §7.3), whatever the backend does: the stop
/// reaches the read still waiting on a backend that keeps its side open after our FIN.
/// </summary>
public sealed class ClientCloseTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(false, TlsEngine.SslStream)]
    [InlineData(true, TlsEngine.OpenSsl)]
    public async Task ClientClose_EndsTheTunnel_WhileTheBackendKeepsItsSideOpen(bool tls, TlsEngine engine)
    {
        using var backendListener = new TcpListener(IPAddress.Loopback, 0);
        backendListener.Start();
        await using var server = TestServer.Start(tls: tls, engine: engine);
        server.AddUser("/open", $"127.0.0.1:{((IPEndPoint)backendListener.LocalEndpoint).Port}");

        await using var client = await RawWebSocketClient.ConnectAsync(server.Port, server.Certificate).WaitAsync(Bound);
        Assert.Equal(101, (await client.UpgradeAsync("/open").WaitAsync(Bound)).Status);
        using var backend = await backendListener.AcceptSocketAsync().WaitAsync(Bound);
        await client.SendCloseAsync(1000).WaitAsync(Bound);

        Assert.Equal((ushort)1000, await client.ReadUntilCloseAsync().WaitAsync(Bound));
        // The backend has its end of input and stays open, sending nothing: the tunnel is over all the same.
        Assert.Equal(0, await backend.ReceiveAsync(new byte[1]).WaitAsync(Bound));
        Assert.True(await client.IsClosedByServerAsync().WaitAsync(Bound));
        await server.Listener.WhenNoConnections().WaitAsync(Bound);
    }
}
