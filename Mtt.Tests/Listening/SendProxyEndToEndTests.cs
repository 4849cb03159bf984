using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Mtt.Core.ClientAddress;
using Mtt.Core.Diagnostics;
using Mtt.Core.Listening;
using Mtt.Core.Routing;
using Mtt.Core.Transport;
using Mtt.Tests.Support;

namespace Mtt.Tests.Listening;

/// <summary>-send-proxy: the backend reads the PROXY header (client's address and port, then ours) before any relayed byte.</summary>
public sealed class SendProxyEndToEndTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static TunnelListener StartListener(ProxyHeaderVersion version, string path, string backend, EndPoint? bind = null)
    {
        if (!BackendAddress.TryParse(backend, out var address, out var error)) throw new ArgumentException(error);
        var routes = new RouteStore();
        routes.Update(table => table.WithAdded([new Route(path, address)]));
        var listener = new TunnelListener(new TunnelServerOptions { Bind = bind ?? new IPEndPoint(IPAddress.Loopback, 0), SendProxy = version }, routes, ServerLog.Silent);
        listener.Start();
        return listener;
    }

    /// <summary>The header for a client at 127.0.0.1:<paramref name="clientPort"/> on 127.0.0.1:<paramref name="serverPort"/>, written out by hand from the spec.</summary>
    private static byte[] ExpectedLoopbackHeader(ProxyHeaderVersion version, int clientPort, int serverPort)
    {
        if (version == ProxyHeaderVersion.V1) return Encoding.ASCII.GetBytes($"PROXY TCP4 127.0.0.1 127.0.0.1 {clientPort} {serverPort}\r\n");
        var header = new byte[28];
        "\r\n\r\n\0\r\nQUIT\n"u8.CopyTo(header);
        header[12] = 0x21;
        header[13] = 0x11;
        header[15] = 12;
        byte[] loopback = [127, 0, 0, 1];
        loopback.CopyTo(header, 16);
        loopback.CopyTo(header, 20);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(24), (ushort)clientPort);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(26), (ushort)serverPort);
        return header;
    }

    private static async Task<byte[]> ReadExactlyAsync(Socket socket, int count)
    {
        var buffer = new byte[count];
        await new NetworkStream(socket, ownsSocket: false).ReadExactlyAsync(buffer).AsTask().WaitAsync(Bound);
        return buffer;
    }

    [Theory]
    [InlineData(ProxyHeaderVersion.V1)]
    [InlineData(ProxyHeaderVersion.V2)]
    public async Task PlainTunnel_BackendReadsTheHeader_ThenTheClientsBytes(ProxyHeaderVersion version)
    {
        using var backend = new TcpListener(IPAddress.Loopback, 0);
        backend.Start();
        await using var listener = StartListener(version, "/u", $"127.0.0.1:{((IPEndPoint)backend.LocalEndpoint).Port}");
        int serverPort = listener.LocalEndPoint.Port;

        await using var client = await RawWebSocketClient.ConnectAsync(serverPort);
        int clientPort = ((IPEndPoint)((NetworkStream)client.Stream).Socket.LocalEndPoint!).Port;
        Assert.Equal(101, (await client.UpgradeAsync("/u")).Status);
        await client.SendBinaryAsync("hello"u8.ToArray());

        using var connection = await backend.AcceptSocketAsync().WaitAsync(Bound);
        byte[] expected = [.. ExpectedLoopbackHeader(version, clientPort, serverPort), .. "hello"u8];
        Assert.Equal(expected, await ReadExactlyAsync(connection, expected.Length));

        // And the other way, nothing added.
        await connection.SendAsync("back"u8.ToArray());
        var frame = await client.ReadFrameAsync().WaitAsync(Bound);
        Assert.Equal("back"u8.ToArray(), frame!.Value.Payload);
    }

    [Theory]
    [InlineData(ProxyHeaderVersion.V1)]
    [InlineData(ProxyHeaderVersion.V2)]
    public async Task SmuxSession_EachStreamsBackendConnection_StartsWithTheHeader(ProxyHeaderVersion version)
    {
        using var backend = new TcpListener(IPAddress.Loopback, 0);
        backend.Start();
        await using var listener = StartListener(version, "/m", $"127.0.0.1:{((IPEndPoint)backend.LocalEndpoint).Port}");
        int serverPort = listener.LocalEndPoint.Port;

        using var connected = await SocketWebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{serverPort}/m"), "smux_on");
        await using var client = new SmuxTestClient(connected.WebSocket);
        var header = ExpectedLoopbackHeader(version, ((IPEndPoint)connected.LocalEndPoint).Port, serverPort);

        var first = await client.OpenStreamAsync();
        await first.WriteAsync("one"u8.ToArray());
        var second = await client.OpenStreamAsync();
        await second.WriteAsync("two"u8.ToArray());

        var payloads = new List<string>();
        for (int i = 0; i < 2; i++)
        {
            using var connection = await backend.AcceptSocketAsync().WaitAsync(Bound);
            byte[] received = await ReadExactlyAsync(connection, header.Length + 3);
            Assert.Equal(header, received[..header.Length]);
            payloads.Add(Encoding.ASCII.GetString(received, header.Length, 3));
        }
        payloads.Sort(StringComparer.Ordinal);
        Assert.Equal(["one", "two"], payloads);
    }

    [Fact]
    public async Task BackendRefusing_WithAHeaderToSend_StillClosesClientWith1011()
    {
        int closedPort;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closedPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        await using var listener = StartListener(ProxyHeaderVersion.V1, "/nobackend", $"127.0.0.1:{closedPort}");

        await using var client = await RawWebSocketClient.ConnectAsync(listener.LocalEndPoint.Port);
        Assert.Equal(101, (await client.UpgradeAsync("/nobackend")).Status);
        Assert.Equal((ushort)1011, await client.ReadUntilCloseAsync().WaitAsync(Bound));
    }

    [Fact]
    public async Task UnixSocketClient_HasNoAddress_SoTheBackendReadsProxyUnknown()
    {
        using var directory = new TemporaryDirectory();
        string path = directory.File("tunnel.sock");
        using var backend = new TcpListener(IPAddress.Loopback, 0);
        backend.Start();
        await using var listener = StartListener(ProxyHeaderVersion.V1, "/u", $"127.0.0.1:{((IPEndPoint)backend.LocalEndpoint).Port}", new UnixDomainSocketEndPoint(path));
        Assert.Equal(path, listener.ListenEndPoint.ToString());

        using var client = await SocketWebSocketClient.ConnectAsync(new Uri("ws://localhost/u"), "smux_off", path);
        await client.WebSocket.SendAsync("hi"u8.ToArray(), WebSocketMessageType.Binary, true, CancellationToken.None).WaitAsync(Bound);

        using var connection = await backend.AcceptSocketAsync().WaitAsync(Bound);
        Assert.Equal("PROXY UNKNOWN\r\nhi"u8.ToArray(), await ReadExactlyAsync(connection, 17));
    }

    [Fact]
    public async Task HeaderTheBackendWillNotTake_WithinTheDialTimeout_IsADialFailure()
    {
        // A backend that never accepts nor reads: once its small receive buffer and our send buffer are full,
        // the rest of an oversized header cannot go, and the dial's timeout must end the wait.
        using var backend = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        backend.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        backend.Listen(1);
        Assert.True(BackendAddress.TryParse($"127.0.0.1:{((IPEndPoint)backend.LocalEndPoint!).Port}", out var address, out _));

        var header = new byte[16 * 1024 * 1024];
        var (connection, error) = await BackendDialer.DialAsync(address, header, TimeSpan.FromMilliseconds(500), TimeProvider.System, CancellationToken.None).WaitAsync(Bound);
        Assert.Null(connection);
        Assert.Equal("no answer within 0.5 s", error);
    }
}
