using System.Net;
using static Mtt.Tests.ClientAddress.ProxiedServer;

namespace Mtt.Tests.ClientAddress;

/// <summary>-trusted-proxy over loopback: X-Forwarded-For and X-Real-IP name the client in the log only when a trusted peer sent them.</summary>
public sealed class ForwardedHeadersEndToEndTests
{
    private static async Task<string> TunnelLogAsync(ProxiedServer server, string extraHeaders, byte[]? proxyHeader = null)
    {
        await using (var client = await server.ConnectAsync(proxyHeader))
            await AssertTunnelAsync(client, Head(extraHeaders));
        await server.AllConnectionsEndedAsync();
        return server.LogText;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TrustedPeer_ForwardedFor_NamesTheRightmostUntrustedAddress(bool tls)
    {
        await using var server = Start(tls, proxyProtocol: false, trustedProxies: "127.0.0.1/32,10.0.0.0/8");
        string log = await TunnelLogAsync(server, "X-Forwarded-For: 6.6.6.6, 203.0.113.7\r\nX-Forwarded-For: 10.0.0.5\r\n");
        Assert.Matches(@"203\.0\.113\.7 via 127\.0\.0\.1:\d+: tunnel open for user", log);
        Assert.DoesNotContain("6.6.6.6", log);
    }

    [Fact]
    public async Task TrustedPeer_RealIp_NamesTheClient()
    {
        await using var server = Start(proxyProtocol: false, trustedProxies: "::1/128, 127.0.0.0/8");
        string log = await TunnelLogAsync(server, "X-Real-IP: 2001:db8::9\r\n");
        Assert.Matches(@"2001:db8::9 via 127\.0\.0\.1:\d+: tunnel open for user", log);
    }

    [Fact]
    public async Task UntrustedPeer_ForwardingHeadersAreIgnored()
    {
        await using var server = Start(proxyProtocol: false, trustedProxies: "10.0.0.0/8");
        string log = await TunnelLogAsync(server, "X-Forwarded-For: 203.0.113.7\r\nX-Real-IP: 203.0.113.8\r\n");
        Assert.Contains("X-Forwarded-For / X-Real-IP ignored: the peer is not in -trusted-proxy", log);
        Assert.DoesNotContain("203.0.113", log);
        Assert.Matches(@"127\.0\.0\.1:\d+: tunnel open for user", log);
    }

    [Fact]
    public async Task WithoutTrustedProxies_ForwardingHeadersAreIgnoredSilently()
    {
        await using var server = Start(proxyProtocol: false);
        string log = await TunnelLogAsync(server, "X-Forwarded-For: 203.0.113.7\r\n");
        Assert.DoesNotContain("203.0.113", log);
        Assert.DoesNotContain("ignored", log);
    }

    [Fact]
    public async Task BehindProxyProtocol_TheHeadersSourceIsThePeerThatMustBeTrusted()
    {
        var listener = IPEndPoint.Parse("198.51.100.1:443");
        await using (var server = Start(trustedProxies: "10.0.0.0/8"))
        {
            // The PROXY header says an HTTP proxy at 10.0.0.5 connected: its X-Forwarded-For is believed.
            string log = await TunnelLogAsync(server, "X-Forwarded-For: 203.0.113.7\r\n", ProxyHeaders.V2(IPEndPoint.Parse("10.0.0.5:40000"), listener));
            Assert.Matches(@"203\.0\.113\.7 via 127\.0\.0\.1:\d+: tunnel open for user", log);
        }
        await using (var server = Start(trustedProxies: "127.0.0.1/32"))
        {
            // The TCP peer is trusted, but the client the PROXY header names is not: its header is its own word.
            string log = await TunnelLogAsync(server, "X-Forwarded-For: 6.6.6.6\r\n", ProxyHeaders.V1(IPEndPoint.Parse("203.0.113.7:51234"), listener));
            Assert.Matches(@"203\.0\.113\.7:51234 via 127\.0\.0\.1:\d+: tunnel open for user", log);
            Assert.DoesNotContain("6.6.6.6", log);
        }
    }
}
