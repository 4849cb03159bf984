using System.Buffers.Binary;
using System.Net.WebSockets;
using Microsoft.Extensions.Time.Testing;
using Mtt.Tests.Support;

namespace Mtt.Tests.Limits;

/// <summary><c>expires</c> on a fake clock: a time in the past refuses with 403; one reached while tunnels are open closes them with 1008.</summary>
public sealed class ExpiryLimitTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    private static string Add(string path, string dst, DateTimeOffset expires) =>
        $$"""{"opt":1,"args_bunch":[{"path":"{{path}}","dst":"{{dst}}","expires":"{{expires.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}}"}]}""";

    [Fact]
    public async Task AnExpiryInTheNearPast_Refuses403_AndTheUserStaysListedAsExpired()
    {
        var time = new FakeTimeProvider(Start);
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start(time: time);
        await server.CommandAsync(Add("/late", backend.Address, Start - TimeSpan.FromSeconds(1)));

        await using var client = await RawWebSocketClient.ConnectAsync(server.TunnelPort);
        Assert.Equal(403, (await client.UpgradeAsync("/late").WaitAsync(Bound)).Status);
        Assert.Equal(0, backend.Accepted);
        var user = await server.UserAsync("/late");
        Assert.True(user.GetProperty("expired").GetBoolean());
        Assert.Contains("mtt_handshakes_refused_total{reason=\"expired\"} 1", await server.ScrapeAsync());
    }

    [Fact]
    public async Task AnExpiryReachedWhileTunnelsAreOpen_ClosesPlainAndSmuxWith1008_ThenRefuses_UntilALaterOneIsSet()
    {
        var time = new FakeTimeProvider(Start);
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start(time: time);
        await server.CommandAsync(Add("/soon", backend.Address, Start + TimeSpan.FromSeconds(10)));

        await using var plain = await RawWebSocketClient.ConnectAsync(server.TunnelPort);
        Assert.Equal(101, (await plain.UpgradeAsync("/soon").WaitAsync(Bound)).Status);
        await using var session = await SmuxTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{server.TunnelPort}/soon"));
        var stream = await session.OpenStreamAsync();
        await stream.WriteAsync("x"u8.ToArray());
        await stream.ReadExactlyAsync(1).WaitAsync(Bound);
        var plainClose = ReadCloseCodeAsync(plain);

        time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(plainClose.IsCompleted || session.Closed.IsCompleted);
        Assert.False((await server.UserAsync("/soon")).GetProperty("expired").GetBoolean());

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal((ushort)1008, await plainClose.WaitAsync(Bound));
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await session.Closed.WaitAsync(Bound));
        Assert.True((await server.UserAsync("/soon")).GetProperty("expired").GetBoolean());
        await using (var refused = await RawWebSocketClient.ConnectAsync(server.TunnelPort))
        {
            Assert.Equal(403, (await refused.UpgradeAsync("/soon").WaitAsync(Bound)).Status);
        }

        await server.CommandAsync(Add("/soon", backend.Address, Start + TimeSpan.FromDays(30)));
        await using var renewed = await RawWebSocketClient.ConnectAsync(server.TunnelPort);
        Assert.Equal(101, (await renewed.UpgradeAsync("/soon").WaitAsync(Bound)).Status);
        await renewed.AssertEchoesThenClosesAsync("renewed", Bound);
    }

    private static async Task<ushort?> ReadCloseCodeAsync(RawWebSocketClient client)
    {
        while (await client.ReadFrameAsync() is { } frame)
        {
            if (frame.Opcode == 0x8) return BinaryPrimitives.ReadUInt16BigEndian(frame.Payload);
        }
        return null;
    }
}
