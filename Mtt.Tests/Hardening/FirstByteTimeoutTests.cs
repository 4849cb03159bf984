using Mtt.Core.Listening;
using Mtt.Core.Transport;
using Mtt.Tests.Support;

namespace Mtt.Tests.Hardening;

/// <summary>A connection that sends nothing is dropped at the first-byte timeout, long before the handshake timeout.</summary>
public class FirstByteTimeoutTests
{
    // Less than the first-byte timeout itself: the drop must come from the fake clock, not from real time passing.
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(3);

    [Theory]
    [InlineData(false, TlsEngine.SslStream)]
    [InlineData(true, TlsEngine.SslStream)]
    [InlineData(true, TlsEngine.OpenSsl)]
    public async Task SilentConnection_IsDroppedAtTheFirstByteTimeout_AndCounted(bool tls, TlsEngine engine)
    {
        var clock = new TimerWatchingClock(TunnelServerOptions.DefaultFirstByteTimeout);
        await using var server = LimitedServer.Start(tls, time: clock, engine: engine);
        await using var silent = await RawWebSocketClient.ConnectAsync(server.Port).WaitAsync(AttackedServer.Bound);
        // The server is waiting for its first byte once it has set the timer for it.
        await clock.DeadlineSet.WaitAsync(AttackedServer.Bound);

        clock.Advance(TunnelServerOptions.DefaultFirstByteTimeout);

        Assert.Empty(await StreamReading.ReadToEndAsync(silent.Stream).WaitAsync(Prompt));
        Assert.Contains("\nmtt_handshakes_refused_total{reason=\"first_byte_timeout\"} 1\n", server.Exposition);
        Assert.Contains("\nmtt_handshakes_refused_total{reason=\"timeout\"} 0\n", server.Exposition);
        await server.AssertServesAsync(AttackedServer.Bound);
    }

    [Fact]
    public void Default_IsFiveSeconds_HalfTheHandshakeTimeout()
    {
        var options = new TunnelServerOptions { Bind = new System.Net.IPEndPoint(0, 0) };
        Assert.Equal(TimeSpan.FromSeconds(5), options.FirstByteTimeout);
        Assert.True(options.FirstByteTimeout < options.HandshakeTimeout);
    }
}
