using System.Net;
using System.Security.Authentication;
using System.Text;
using Mtt.Core.Diagnostics;
using Mtt.Core.Routing;
using Mtt.Tests.Support;
using static Mtt.Tests.ClientAddress.ProxiedServer;

namespace Mtt.Tests.ClientAddress;

/// <summary>-proxy-protocol over loopback, plain and TLS: the header before the ClientHello or the head, the address it names in the log, and what happens without one.</summary>
public sealed class ProxyProtocolEndToEndTests
{
    private static readonly IPEndPoint Client4 = IPEndPoint.Parse("203.0.113.7:51234");
    private static readonly IPEndPoint Listener4 = IPEndPoint.Parse("198.51.100.1:443");
    private static readonly IPEndPoint Client6 = IPEndPoint.Parse("[2001:db8::7]:40001");
    private static readonly IPEndPoint Listener6 = IPEndPoint.Parse("[2001:db8::1]:443");

    public static TheoryData<bool, int, bool> Modes()
    {
        var data = new TheoryData<bool, int, bool>();
        foreach (bool tls in new[] { false, true })
        foreach (int version in new[] { 1, 2 })
        foreach (bool ipv6 in new[] { false, true })
            data.Add(tls, version, ipv6);
        return data;
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Header_ThenUpgrade_GetsItsTunnel_AndTheLogShowsTheHeadersAddress(bool tls, int version, bool ipv6)
    {
        await using var server = Start(tls);
        var (source, destination) = ipv6 ? (Client6, Listener6) : (Client4, Listener4);
        byte[] header = version == 1 ? ProxyHeaders.V1(source, destination) : ProxyHeaders.V2(source, destination, ProxyHeaders.Tlv(0x04, new byte[7]));

        await using (var client = await server.ConnectAsync(header))
            await AssertTunnelAsync(client, Head());
        await server.AllConnectionsEndedAsync();

        string log = server.LogText;
        Assert.Contains($"{source} via 127.0.0.1:", log);
        Assert.Contains($": PROXY v{version} header, to {destination}", log);
        Assert.Matches($@"{System.Text.RegularExpressions.Regex.Escape(source.ToString())} via 127\.0\.0\.1:\d+: tunnel open for user", log);
        Assert.Equal(0, server.Metrics.Refused(HandshakeRefusal.ProxyHeader));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task LocalAndUnknownHeaders_KeepTheConnectionsOwnAddress(bool tls)
    {
        await using var server = Start(tls);
        await using (var client = await server.ConnectAsync(ProxyHeaders.V2Raw(0x20, 0x00, [])))
            await AssertTunnelAsync(client, Head());
        await using (var client = await server.ConnectAsync(ProxyHeaders.V1("PROXY UNKNOWN\r\n")))
            await AssertTunnelAsync(client, Head());
        await server.AllConnectionsEndedAsync();

        string log = server.LogText;
        Assert.Contains("PROXY v2 header without addresses (LOCAL or UNKNOWN)", log);
        Assert.Contains("PROXY v1 header without addresses (LOCAL or UNKNOWN)", log);
        Assert.DoesNotContain(" via ", log);
        Assert.Matches(@"127\.0\.0\.1:\d+: tunnel open for user", log);
    }

    [Fact]
    public async Task PlainHeadWithoutAHeader_IsClosedWithoutAnAnswer_AndCounted_AndTheNextClientIsServed()
    {
        await using var server = Start();
        await using (var client = await server.ConnectAsync())
        {
            await client.SendRawAsync(Head()).WaitAsync(Bound);
            await AssertClosedSilentlyAsync(client);
        }
        await server.AllConnectionsEndedAsync();
        Assert.Equal(1, server.Metrics.Refused(HandshakeRefusal.ProxyHeader));
        Assert.Contains("dropped: no PROXY protocol header (-proxy-protocol)", server.LogText);
        string exposition = MetricsText.Of(server.Metrics);
        Assert.Contains("mtt_handshakes_refused_total{reason=\"proxy_header\"} 1", exposition);

        await using (var next = await server.ConnectAsync(ProxyHeaders.V1(Client4, Listener4)))
            await AssertTunnelAsync(next, Head());
    }

    [Fact]
    public async Task TlsClientWithoutAHeader_FailsItsHandshake_AndTheNextClientIsServed()
    {
        await using var server = Start(tls: true);
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var client = await server.ConnectAsync();
        });
        await server.AllConnectionsEndedAsync();
        Assert.Equal(1, server.Metrics.Refused(HandshakeRefusal.ProxyHeader));

        await using (var next = await server.ConnectAsync(ProxyHeaders.V2(Client4, Listener4)))
            await AssertTunnelAsync(next, Head());
    }

    [Theory]
    [InlineData("PROXY TCP4 203.0.113.7 198.51.100.1 51234 443\n")]
    [InlineData("PROXY TCP4 203.0.113.007 198.51.100.1 51234 443\r\n")]
    public async Task MalformedHeader_IsClosed_AndCounted(string line)
    {
        await using var server = Start();
        await using (var client = await server.ConnectAsync(ProxyHeaders.V1(line)))
            await AssertClosedSilentlyAsync(client);
        await server.AllConnectionsEndedAsync();
        Assert.Equal(1, server.Metrics.Refused(HandshakeRefusal.ProxyHeader));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task HeaderThatNeverEnds_IsDroppedAtTheHandshakeTimeout(bool v2)
    {
        await using var server = Start(handshakeTimeout: TimeSpan.FromMilliseconds(300));
        byte[] unfinished = v2
            ? ProxyHeaders.V2(Client4, Listener4, new byte[100])[..40]
            : ProxyHeaders.V1("PROXY TCP4 203.0.113.7 198.51.100.1 5");
        await using (var client = await server.ConnectAsync(unfinished))
            await AssertClosedSilentlyAsync(client);
        await server.AllConnectionsEndedAsync();
        Assert.Equal(1, server.Metrics.Refused(HandshakeRefusal.Timeout));
        Assert.Equal(0, server.Metrics.Refused(HandshakeRefusal.ProxyHeader));
    }

    [Fact]
    public async Task WithoutTheFlag_AHeaderIsJustABadRequest()
    {
        await using var server = Start(proxyProtocol: false);
        await using var client = await server.ConnectAsync(ProxyHeaders.V1(Client4, Listener4));
        await client.SendRawAsync(Head()).WaitAsync(Bound);
        var (status, _) = await client.ReadResponseHeadAsync().WaitAsync(Bound);
        Assert.Equal(400, status);
    }

    /// <summary>The server closed the connection without a byte: a refusal before TLS has no language to speak in.</summary>
    private static async Task AssertClosedSilentlyAsync(RawWebSocketClient client)
    {
        var buffer = new byte[256];
        try
        {
            // Bytes the server never read make its close a reset, which is as closed as a FIN.
            Assert.Equal(0, await client.Stream.ReadAsync(buffer).AsTask().WaitAsync(Bound));
        }
        catch (IOException)
        {
        }
    }
}
