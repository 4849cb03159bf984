using Mtt.Tests.Support;
using Xunit.Abstractions;

namespace Mtt.Tests.Relay;

/// <summary>
/// The load harness drives the server with <see cref="RawWebSocketClient"/>'s message path and an <see cref="EchoBackend"/>;
/// both must allocate nothing per message, or the harness would measure its own garbage. The count is the whole
/// process's, so it includes the server's tunnel over real sockets, which allocates nothing per message either.
/// </summary>
[Collection(AllocationMeasurement.Name)]
public class LoadClientAllocationTests(ITestOutputHelper output)
{
    private const int WarmUpMessages = 2_000;
    private const int MeasuredMessages = 2_000;
    // As SteadyStateRelayAllocationTests: just under one object per message, above the runtime's cache misses.
    private const double MaxBytesPerMessage = 20.0;
    private const int Attempts = 10;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    [Theory]
    [InlineData(64)]
    [InlineData(RawWebSocketClient.MaxSendPayload)]
    public async Task HarnessClient_EchoingThroughTheServer_AllocatesNothingPerMessage(int messageBytes)
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.StartWithUser("/load", backend.Address);
        await using var client = await RawWebSocketClient.OpenTunnelAsync(server.Port, tls: null, "/load", "smux_off", CancellationToken.None).WaitAsync(Bound);
        var message = new byte[messageBytes];
        Random.Shared.NextBytes(message);
        var echo = new byte[messageBytes];

        await EchoAsync(client, message, echo, WarmUpMessages).WaitAsync(Bound);
        Assert.Equal(message, echo);
        var perMessage = new List<double>(Attempts);
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            await EchoAsync(client, message, echo, MeasuredMessages).WaitAsync(Bound);
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            perMessage.Add((double)allocated / MeasuredMessages);
            output.WriteLine($"{messageBytes}-byte messages: {allocated} bytes over {MeasuredMessages}, {perMessage[^1]:0.###} per message");
            if (perMessage[^1] < MaxBytesPerMessage) break;
        }
        Assert.True(perMessage[^1] < MaxBytesPerMessage,
            $"{messageBytes}-byte messages: {string.Join(", ", perMessage.Select(b => $"{b:0.##}"))} bytes per message over {Attempts} runs (goal: under {MaxBytesPerMessage})");
        Assert.True(await client.CloseAsync().WaitAsync(Bound), "the server did not finish the close handshake");
    }

    private static async Task EchoAsync(RawWebSocketClient client, byte[] message, byte[] echo, int messages)
    {
        for (int i = 0; i < messages; i++)
        {
            await client.SendBinaryAsync(ReadOnlyMemory<byte>.Empty, message, CancellationToken.None);
            for (int received = 0; received < echo.Length;)
            {
                int n = await client.ReceiveAsync(echo.AsMemory(received), CancellationToken.None);
                if (n == 0) throw new EndOfStreamException($"the tunnel ended after {received} of {echo.Length} echoed bytes");
                received += n;
            }
        }
    }
}
