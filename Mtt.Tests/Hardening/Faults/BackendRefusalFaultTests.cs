using System.Diagnostics;
using Mtt.Tests.Support;

namespace Mtt.Tests.Hardening.Faults;

/// <summary>Fault: nothing listens at the user's dst any more (the backend process went away).</summary>
public sealed class BackendRefusalFaultTests
{
    private static readonly TimeSpan Bound = FaultyNetwork.Bound;

    // A refusal on loopback comes back at once; this is far below the 10 s dial timeout, so a tunnel
    // that waited for that timeout instead of the refusal fails the test.
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task PlainTunnel_ToARefusingBackend_GetsClose1011Promptly_IsCounted_AndTheUsersOpenTunnelsLoseNothing()
    {
        await using var network = FaultyNetwork.Start();
        await network.StartBystandersAsync();
        // The user's backend stops listening: its open connections go on, new ones are refused.
        network.Backend.StopAccepting();

        for (int attempt = 1; attempt <= 3; attempt++)
        {
            var clock = Stopwatch.StartNew();
            var client = await network.PlainAsync(FaultyNetwork.BystanderPath);
            Assert.Equal((ushort)1011, await client.ReadUntilCloseAsync().WaitAsync(Bound));
            Assert.True(clock.Elapsed < Prompt, $"close 1011 after {clock.Elapsed}");
            Assert.True(await client.IsClosedByServerAsync().WaitAsync(Bound));
            Assert.Equal(attempt, network.Metrics.DialFailures);
            await network.BystandersAdvancedAsync();
        }

        await network.StopBystandersAsync();
        Assert.Equal(3, network.Metrics.DialFailures);
        // The refused tunnels were tunnels all the same (101 sent): the user counts them.
        Assert.Equal(2 + 3, network.User(FaultyNetwork.BystanderPath).TotalTunnels);
        await network.Listener.WhenNoConnections().WaitAsync(Bound);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task SmuxStream_ToARefusingBackend_GetsFinPromptly_IsCounted_AndTheSessionsOtherStreamsLoseNothing(byte version)
    {
        await using var network = FaultyNetwork.Start();
        var session = await network.SmuxAsync(FaultyNetwork.BystanderPath, version);
        await network.StartBystandersAsync(session);
        network.Backend.StopAccepting();

        for (int attempt = 1; attempt <= 3; attempt++)
        {
            var clock = Stopwatch.StartNew();
            var refused = await session.OpenStreamAsync();
            await refused.WriteAsync(new byte[1000]);
            await refused.FinReceived.WaitAsync(Bound);
            Assert.True(clock.Elapsed < Prompt, $"FIN after {clock.Elapsed}");
            Assert.Empty(await refused.ReadToEndAsync().WaitAsync(Bound));
            Assert.Equal(attempt, network.Metrics.DialFailures);
            await network.BystandersAdvancedAsync();
        }

        Assert.False(session.Closed.IsCompleted);
        await network.StopBystandersAsync();
        Assert.Equal(3, network.Metrics.DialFailures);
        Assert.Equal(1 + 3 + 1, network.User(FaultyNetwork.BystanderPath).TotalStreams);
        await FaultyNetwork.CloseSessionAsync(session);
        await network.Listener.WhenNoConnections().WaitAsync(Bound);
    }
}
