using System.Net;
using Mtt.Tests.Support;

namespace Mtt.Tests.Limits;

/// <summary>max_conns and max_ips at the door: a 429 with Retry-After before the upgrade, no backend dialled, the others go on.</summary>
public sealed class AdmissionLimitTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static async Task<RawWebSocketClient> OpenAsync(ServerWithController server, string path, IPAddress? from = null)
    {
        var client = await RawWebSocketClient.ConnectAsync(server.TunnelPort, from: from);
        var (status, head) = await client.UpgradeAsync(path).WaitAsync(Bound);
        Assert.True(status == 101, head);
        return client;
    }

    private static async Task<string> RefusedHeadAsync(ServerWithController server, string path, IPAddress? from = null)
    {
        await using var client = await RawWebSocketClient.ConnectAsync(server.TunnelPort, from: from);
        var (status, head) = await client.UpgradeAsync(path).WaitAsync(Bound);
        Assert.Equal(429, status);
        Assert.True(await client.IsClosedByServerAsync().WaitAsync(Bound));
        return head;
    }

    private static async Task AssertEchoesAsync(RawWebSocketClient client, string text)
    {
        await client.SendBinaryAsync(System.Text.Encoding.ASCII.GetBytes(text)).WaitAsync(Bound);
        var frame = await client.ReadFrameAsync().WaitAsync(Bound);
        Assert.Equal(text, System.Text.Encoding.ASCII.GetString(frame!.Value.Payload));
    }

    [Fact]
    public async Task MaxConns2_TheThirdTunnelGets429WithRetryAfter_AndTheFirstTwoGoOn()
    {
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start();
        await server.CommandAsync($$"""{"opt":1,"args_bunch":[{"path":"/two","dst":"{{backend.Address}}","max_conns":2}]}""");

        await using var first = await OpenAsync(server, "/two");
        await using var second = await OpenAsync(server, "/two");
        await AssertEchoesAsync(first, "one");
        await AssertEchoesAsync(second, "two");

        string head = await RefusedHeadAsync(server, "/two");
        Assert.Contains("\r\nRetry-After: 5\r\n", head);
        // Refused before any backend was dialled.
        Assert.Equal(2, backend.Accepted);
        await AssertEchoesAsync(first, "still one");
        await AssertEchoesAsync(second, "still two");
        Assert.Contains("mtt_handshakes_refused_total{reason=\"conns\"} 1", await server.ScrapeAsync());
    }

    [Fact]
    public async Task MaxConns_CountsAnSmuxSessionAsOne_WhateverItsStreams()
    {
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start();
        await server.CommandAsync($$"""{"opt":1,"args_bunch":[{"path":"/s","dst":"{{backend.Address}}","max_conns":1}]}""");

        await using var session = await SmuxTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{server.TunnelPort}/s"));
        var a = await session.OpenStreamAsync();
        var b = await session.OpenStreamAsync();
        await a.WriteAsync("a"u8.ToArray());
        await b.WriteAsync("b"u8.ToArray());
        Assert.Equal("a"u8.ToArray(), await a.ReadExactlyAsync(1).WaitAsync(Bound));
        Assert.Equal("b"u8.ToArray(), await b.ReadExactlyAsync(1).WaitAsync(Bound));

        await RefusedHeadAsync(server, "/s");
    }

    [Fact]
    public async Task MaxIps1_ASecondAddressGets429_WhileTheFirstMayOpenMore()
    {
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start();
        await server.CommandAsync($$"""{"opt":1,"args_bunch":[{"path":"/ip","dst":"{{backend.Address}}","max_ips":1}]}""");

        var home = IPAddress.Parse("127.0.0.1");
        var elsewhere = IPAddress.Parse("127.0.0.2");
        await using var first = await OpenAsync(server, "/ip", home);
        await using var sameAddress = await OpenAsync(server, "/ip", home);
        // The backend is dialled after the 101: an echo shows each tunnel has its connection.
        await AssertEchoesAsync(first, "first");
        await AssertEchoesAsync(sameAddress, "same address");
        await RefusedHeadAsync(server, "/ip", elsewhere);
        Assert.Equal(2, backend.Accepted);
        await AssertEchoesAsync(first, "on");
        Assert.Contains("mtt_handshakes_refused_total{reason=\"ips\"} 1", await server.ScrapeAsync());

        // Once the first address has no tunnel left, the other one may come in.
        await first.CloseAsync();
        await sameAddress.CloseAsync();
        await server.AllTunnelsEndedAsync();
        await using var moved = await OpenAsync(server, "/ip", elsewhere);
        await AssertEchoesAsync(moved, "moved");
    }

    [Fact]
    public async Task AnUnknownPath_Is404_BeforeAnyLimitIsLookedAt()
    {
        await using var server = ServerWithController.Start();
        await using var client = await RawWebSocketClient.ConnectAsync(server.TunnelPort);
        var (status, _) = await client.UpgradeAsync("/nobody").WaitAsync(Bound);
        Assert.Equal(404, status);
    }
}
