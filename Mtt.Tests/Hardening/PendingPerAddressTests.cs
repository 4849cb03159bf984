using System.Net;
using System.Text;
using Mtt.Core.Diagnostics;
using Mtt.Tests.ClientAddress;
using Mtt.Tests.Support;

namespace Mtt.Tests.Hardening;

/// <summary>-max-pending-per-ip: one address cannot hold more than its share of connections in their handshake.</summary>
public class PendingPerAddressTests
{
    private static readonly TimeSpan Bound = AttackedServer.Bound;
    // Long enough that no connection of these tests meets the timeouts: the limit alone decides.
    private static readonly TimeSpan NoTimeout = TimeSpan.FromMinutes(2);
    private static readonly string Head = RawWebSocketClient.GoClientHead(AttackedServer.UserPath);

    [Fact]
    public async Task OneAddressBeyondTheLimit_IsClosedAtOnce_CountedAndLoggedOnce_WhileAnotherAddressIsServed()
    {
        await using var server = LimitedServer.Start(handshakeTimeout: NoTimeout, firstByteTimeout: NoTimeout);
        var attacker = IPAddress.Parse("127.0.0.3");
        var pending = new List<RawWebSocketClient>();
        try
        {
            // The default limit: 64 connections of one address in their handshake, each one byte into its head.
            for (int i = 0; i < 64; i++)
            {
                var client = await server.ConnectAsync(attacker).WaitAsync(Bound);
                pending.Add(client);
                await client.SendRawAsync(Encoding.ASCII.GetBytes(Head[..1]));
            }
            // The 65th and 66th: accepted and closed at once, no answer.
            for (int i = 0; i < 2; i++)
            {
                await using var refused = await server.ConnectAsync(attacker).WaitAsync(Bound);
                Assert.Empty(await StreamReading.ReadToEndAsync(refused.Stream).WaitAsync(Bound));
            }
            Assert.Contains("\nmtt_handshakes_refused_total{reason=\"pending_per_ip\"} 2\n", server.Exposition);
            Assert.Single(server.Log.Split('\n'), line => line.Contains("-max-pending-per-ip", StringComparison.Ordinal));
            Assert.Contains("WARN 127.0.0.3: 64 connections from this address in their handshake (-max-pending-per-ip)", server.Log);

            // Another address is served meanwhile, and the attacker's pending connections were held, not closed.
            await server.AssertServesAsync(Bound, IPAddress.Parse("127.0.0.2"));
            await pending[0].SendRawAsync(Encoding.ASCII.GetBytes(Head[1..]));
            var (status, head) = await pending[0].ReadResponseHeadAsync().WaitAsync(Bound);
            Assert.True(status == 101, head);
        }
        finally
        {
            foreach (var client in pending) await client.DisposeAsync();
        }

        // Nothing is left behind for the address once its connections end, and it is served again.
        await server.Listener.WhenNoConnections().WaitAsync(Bound);
        Assert.Equal(0, server.Listener.PendingAddresses);
        await server.AssertServesAsync(Bound, attacker);
    }

    [Fact]
    public async Task Tunnels_AreNotPending_SoOneAddressMayOpenMoreTunnelsThanTheLimit()
    {
        await using var server = LimitedServer.Start(maxPendingPerAddress: 2);
        var from = IPAddress.Parse("127.0.0.4");
        var tunnels = new List<RawWebSocketClient>();
        try
        {
            for (int i = 0; i < 4; i++)
            {
                var client = await server.ConnectAsync(from).WaitAsync(Bound);
                tunnels.Add(client);
                var (status, head) = await client.UpgradeAsync(AttackedServer.UserPath).WaitAsync(Bound);
                Assert.True(status == 101, head);
            }
            foreach (var tunnel in tunnels) await tunnel.AssertEchoesThenClosesAsync("a tunnel", Bound);
            Assert.Equal(0, server.Metrics.Refused(HandshakeRefusal.PendingPerAddress));
        }
        finally
        {
            foreach (var client in tunnels) await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task WithProxyProtocol_EachProxiedClientIsCounted_NotTheProxy()
    {
        await using var server = LimitedServer.Start(maxPendingPerAddress: 2, proxyProtocol: true, handshakeTimeout: NoTimeout, firstByteTimeout: NoTimeout);
        var ours = new IPEndPoint(IPAddress.Loopback, server.Port);
        byte[] fromX = ProxyHeaders.V1(new IPEndPoint(IPAddress.Parse("203.0.113.7"), 40000), ours);
        var clients = new List<RawWebSocketClient>();
        try
        {
            // Three connections of one proxied client through the same proxy (every TCP peer is 127.0.0.1), each a
            // header and a byte of its head: two may wait in their handshake, the third is closed at once.
            for (int i = 0; i < 3; i++)
            {
                var client = await server.ConnectAsync(preamble: [.. fromX, .. Encoding.ASCII.GetBytes(Head[..1])]).WaitAsync(Bound);
                clients.Add(client);
            }
            var answers = clients.Select(c => c.ReadResponseHeadAsync()).ToList();
            var first = await Task.WhenAny(answers).WaitAsync(Bound);
            await Assert.ThrowsAsync<EndOfStreamException>(() => first);
            Assert.Equal(1, server.Metrics.Refused(HandshakeRefusal.PendingPerAddress));
            Assert.Contains("WARN 203.0.113.7: 2 connections from this address in their handshake", server.Log);

            // Another client through the same proxy is served: the proxy itself is never refused.
            await server.AssertServesAsync(Bound, preamble: ProxyHeaders.V1(new IPEndPoint(IPAddress.Parse("198.51.100.1"), 40001), ours));
            // The two that waited were admitted all along.
            for (int i = 0; i < clients.Count; i++)
            {
                if (answers[i] == first) continue;
                await clients[i].SendRawAsync(Encoding.ASCII.GetBytes(Head[1..]));
                var (status, head) = await answers[i].WaitAsync(Bound);
                Assert.True(status == 101, head);
            }
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
    }
}
