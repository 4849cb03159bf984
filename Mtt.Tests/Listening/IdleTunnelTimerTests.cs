using Mtt.Core.Transport;
using Mtt.Tests.Support;

namespace Mtt.Tests.Listening;

/// <summary>
/// What an idle tunnel keeps, counted by the timers made on the server's clock: thousands of idle tunnels are the
/// server's resting state, so whatever each keeps for its life is paid thousands of times.
/// </summary>
public sealed class IdleTunnelTimerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    public static TheoryData<TlsEngine, bool> EnginesAndMux => new()
    {
        { TlsEngine.OpenSsl, false },
        { TlsEngine.OpenSsl, true },
        { TlsEngine.SslStream, false },
        { TlsEngine.SslStream, true },
    };

    /// <summary>
    /// Its watchdog is the one timer an idle tunnel or smux session holds: not the handshake's deadline (disposed as the
    /// handshake ends, and no longer referenced either) and not the grace a write to the client gets once the tunnel
    /// stops (made when it stops).
    /// </summary>
    [Theory]
    [MemberData(nameof(EnginesAndMux))]
    public async Task AnIdleTunnel_HoldsItsWatchdogAndNoOtherTimer(TlsEngine engine, bool mux)
    {
        var clock = new TimerCensusClock();
        await using var backend = new EchoBackend();
        await using var server = TestServer.StartWithUser("/t", backend.Address, tls: true, mux: mux, time: clock, engine: engine);

        if (mux)
        {
            await using var client = await server.ConnectSmuxAsync("/t");
            var stream = await client.OpenStreamAsync();
            await stream.WriteAsync("hello"u8.ToArray());
            Assert.Equal("hello"u8.ToArray(), await stream.ReadExactlyAsync(5).WaitAsync(Bound));
            AssertOnlyTheWatchdog(clock);
        }
        else
        {
            await using var client = await RawWebSocketClient.ConnectAsync(server.Port, server.Certificate);
            Assert.Equal(101, (await client.UpgradeAsync("/t")).Status);
            await client.SendBinaryAsync("hello"u8.ToArray());
            var echo = await client.ReadFrameAsync().WaitAsync(Bound);
            Assert.Equal("hello"u8.ToArray(), echo!.Value.Payload);
            AssertOnlyTheWatchdog(clock);
        }
    }

    private static void AssertOnlyTheWatchdog(TimerCensusClock clock)
    {
        var live = clock.LiveTimerStates();
        Assert.True(live.Count == 1 && live[0].StartsWith("TunnelLifetime", StringComparison.Ordinal),
            $"an idle tunnel holds timers for: {string.Join(", ", live)} ({clock.TimersMade} made)");
    }
}
