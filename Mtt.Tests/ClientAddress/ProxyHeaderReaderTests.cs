using System.Net;
using System.Net.Sockets;
using System.Text;
using Mtt.Core.ClientAddress;

namespace Mtt.Tests.ClientAddress;

/// <summary>The reader takes the header off the socket and leaves every byte after it, however the header arrives.</summary>
public sealed class ProxyHeaderReaderTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly byte[] After = Encoding.ASCII.GetBytes("\x16\x03\x01 the ClientHello");

    private static async Task<(Socket Client, Socket Server)> ConnectedPairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(listener.LocalEndPoint!).WaitAsync(Bound);
        var server = await listener.AcceptAsync().WaitAsync(Bound);
        return (client, server);
    }

    private static Task SendAsync(Socket socket, byte[] bytes) => socket.SendAsync(bytes.AsMemory(), SocketFlags.None).AsTask().WaitAsync(Bound);

    private static async Task<byte[]> ReadRestAsync(Socket socket, int count)
    {
        var rest = new byte[count];
        int read = 0;
        while (read < count)
        {
            int n = await socket.ReceiveAsync(rest.AsMemory(read), SocketFlags.None).AsTask().WaitAsync(Bound);
            Assert.NotEqual(0, n);
            read += n;
        }
        return rest;
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(1, true)]
    [InlineData(2, false)]
    [InlineData(2, true)]
    public async Task HeaderInOneOrTwoWrites_LeavesTheFollowingBytesOnTheSocket(int version, bool split)
    {
        var (client, server) = await ConnectedPairAsync();
        using var _ = client;
        using var __ = server;
        var source = IPEndPoint.Parse("203.0.113.7:51234");
        var destination = IPEndPoint.Parse("198.51.100.1:443");
        byte[] header = version == 1 ? ProxyHeaders.V1(source, destination) : ProxyHeaders.V2(source, destination, ProxyHeaders.Tlv(0x02, new byte[40]));

        if (split)
        {
            await SendAsync(client, header[..(header.Length / 2)]);
            var reading = ProxyHeaderReader.ReadAsync(server, CancellationToken.None);
            await SendAsync(client, [.. header[(header.Length / 2)..], .. After]);
            var result = await reading.WaitAsync(Bound);
            Assert.Equal(source, result.Source);
        }
        else
        {
            await SendAsync(client, [.. header, .. After]);
            var result = await ProxyHeaderReader.ReadAsync(server, CancellationToken.None).WaitAsync(Bound);
            Assert.Equal(ProxyHeaderParseStatus.Complete, result.Status);
            Assert.Equal(destination, result.Destination);
        }
        Assert.Equal(After, await ReadRestAsync(server, After.Length));
    }

    [Fact]
    public async Task PeerClosingMidHeader_IsNeedMoreData_WithTheBytesItSent()
    {
        var (client, server) = await ConnectedPairAsync();
        using var __ = server;
        await SendAsync(client, "PROXY TCP4 "u8.ToArray());
        client.Shutdown(SocketShutdown.Send);
        var result = await ProxyHeaderReader.ReadAsync(server, CancellationToken.None).WaitAsync(Bound);
        client.Dispose();
        Assert.Equal(ProxyHeaderParseStatus.NeedMoreData, result.Status);
        Assert.Equal(11, result.Length);
    }

    [Fact]
    public async Task Garbage_IsInvalid_AndNothingIsConsumed()
    {
        var (client, server) = await ConnectedPairAsync();
        using var _ = client;
        using var __ = server;
        await SendAsync(client, After);
        var result = await ProxyHeaderReader.ReadAsync(server, CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(ProxyHeaderParseStatus.Invalid, result.Status);
        Assert.Equal(After, await ReadRestAsync(server, After.Length));
    }
}
