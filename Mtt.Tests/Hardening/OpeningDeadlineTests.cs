using System.Text;
using Mtt.Core.Listening;
using Mtt.Tests.Support;

namespace Mtt.Tests.Hardening;

/// <summary>
/// A connection's opening has one deadline: the first-byte timeout until a byte comes, then the handshake timeout,
/// counted from the accept, not from the first byte.
/// </summary>
public class OpeningDeadlineTests
{
    // Less than any timeout here: what happens must come from the fake clock, not from real time passing.
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan BeforeFirstByte = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task AfterTheFirstByte_TheFirstByteTimeoutNoLongerApplies()
    {
        var clock = new TimerWatchingClock(TunnelServerOptions.DefaultFirstByteTimeout);
        await using var server = LimitedServer.Start(time: clock);
        await using var client = await SendFirstBytesLateAsync(server, clock);

        // Past the first-byte timeout since the accept, the head is finished: the server is still reading it.
        clock.Advance(TunnelServerOptions.DefaultFirstByteTimeout - BeforeFirstByte + TimeSpan.FromSeconds(1));
        await client.Stream.WriteAsync(Encoding.ASCII.GetBytes("Host: localhost\r\n\r\n")).AsTask().WaitAsync(Prompt);

        var answer = Encoding.ASCII.GetString(await StreamReading.ReadToEndAsync(client.Stream).WaitAsync(Prompt));
        Assert.StartsWith("HTTP/1.1 404", answer);
        Assert.Contains("\nmtt_handshakes_refused_total{reason=\"first_byte_timeout\"} 0\n", server.Exposition);
        Assert.Contains("\nmtt_handshakes_refused_total{reason=\"timeout\"} 0\n", server.Exposition);
    }

    [Fact]
    public async Task AHeadStalledAfterItsFirstByte_IsDroppedAtTheHandshakeTimeout_CountedFromTheAccept()
    {
        var clock = new TimerWatchingClock(TunnelServerOptions.DefaultFirstByteTimeout);
        await using var server = LimitedServer.Start(time: clock, handshakeTimeout: TimeSpan.FromSeconds(10));
        await using var client = await SendFirstBytesLateAsync(server, clock);

        // 10 s after the accept, 7 after the first byte.
        clock.Advance(TimeSpan.FromSeconds(10) - BeforeFirstByte);

        Assert.Empty(await StreamReading.ReadToEndAsync(client.Stream).WaitAsync(Prompt));
        Assert.Contains("\nmtt_handshakes_refused_total{reason=\"timeout\"} 1\n", server.Exposition);
        Assert.Contains("\nmtt_handshakes_refused_total{reason=\"first_byte_timeout\"} 0\n", server.Exposition);
        await server.AssertServesAsync(AttackedServer.Bound);
    }

    /// <summary>Connects, waits <see cref="BeforeFirstByte"/> on the fake clock, sends the start of a head, and returns once the server has moved its deadline.</summary>
    private static async Task<RawWebSocketClient> SendFirstBytesLateAsync(LimitedServer server, TimerWatchingClock clock)
    {
        var client = await RawWebSocketClient.ConnectAsync(server.Port).WaitAsync(AttackedServer.Bound);
        await clock.DeadlineSet.WaitAsync(AttackedServer.Bound);
        clock.Advance(BeforeFirstByte);
        await client.Stream.WriteAsync(Encoding.ASCII.GetBytes("GET /nobody HTTP/1.1\r\n")).AsTask().WaitAsync(Prompt);
        var moved = await clock.DeadlineMoved.WaitAsync(AttackedServer.Bound);
        // What is left of the handshake timeout, not all of it again.
        Assert.Equal(TimeSpan.FromSeconds(10) - BeforeFirstByte, moved);
        return client;
    }
}
