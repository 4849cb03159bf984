using System.Buffers.Binary;
using System.Diagnostics;
using Mtt.Tests.Support;

namespace Mtt.Tests.Limits;

/// <summary>A quota crossed mid-transfer: the user's tunnels close with 1008 within a second, the count matches, new tunnels get 403.</summary>
public sealed class QuotaLimitTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CloseDeadline = TimeSpan.FromSeconds(1);

    private const long Quota = 1_000_000;

    /// <summary>
    /// Sends 16 KiB messages one at a time, each once the last one's echo is back, until the server's close frame:
    /// so the client's count follows the server's, and the time from the client's count reaching the quota to the
    /// close is the server's doing, not a backlog of reads.
    /// </summary>
    private sealed class LockstepTransfer(RawWebSocketClient client)
    {
        public long Received { get; private set; }

        /// <summary>From the client's own count (sent and received) reaching the quota, less one message, to the close frame.</summary>
        public TimeSpan CloseDelay { get; private set; }

        public async Task<ushort?> RunAsync()
        {
            var chunk = new byte[16 * 1024];
            long sent = 0;
            long nearQuotaAt = 0;
            while (true)
            {
                if (nearQuotaAt == 0 && sent + Received >= Quota - chunk.Length) nearQuotaAt = Stopwatch.GetTimestamp();
                try
                {
                    await client.SendBinaryAsync(chunk);
                }
                catch (IOException)
                {
                    // The server may have closed already; its close frame is still to be read.
                }
                sent += chunk.Length;
                long echoed = 0;
                while (echoed < chunk.Length)
                {
                    if (await client.ReadFrameAsync() is not { } frame) return null;
                    if (frame.Opcode == 0x8)
                    {
                        CloseDelay = nearQuotaAt == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(nearQuotaAt);
                        return BinaryPrimitives.ReadUInt16BigEndian(frame.Payload);
                    }
                    echoed += frame.Payload.Length;
                    Received += frame.Payload.Length;
                }
            }
        }
    }

    [Fact]
    public async Task AQuotaCrossedMidTransfer_ClosesWith1008WithinASecond_TheCountMatches_AndNewTunnelsGet403()
    {
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start(verbose: true);
        await server.CommandAsync($$"""{"opt":1,"args_bunch":[{"path":"/q","dst":"{{backend.Address}}","quota":{{Quota}}}]}""");

        await using var client = await RawWebSocketClient.ConnectAsync(server.TunnelPort);
        Assert.Equal(101, (await client.UpgradeAsync("/q").WaitAsync(Bound)).Status);
        var transfer = new LockstepTransfer(client);
        var closeCode = await transfer.RunAsync().WaitAsync(Bound);
        Assert.True(closeCode == 1008, $"close code {closeCode}\n{server.LogText}");
        Assert.True(transfer.CloseDelay < CloseDeadline, $"closed {transfer.CloseDelay} after the client had moved the quota");

        await server.AllTunnelsEndedAsync();
        var user = await server.UserAsync("/q");
        long fromClient = user.GetProperty("bytes_from_client").GetInt64();
        long toClient = user.GetProperty("bytes_to_client").GetInt64();
        // What the server counted to the client is what the client got; at most the message in hand each way was relayed once the quota was crossed.
        Assert.Equal(transfer.Received, toClient);
        Assert.InRange(fromClient + toClient, Quota, Quota + 2 * 16 * 1024);
        Assert.Equal(0, user.GetProperty("quota_left").GetInt64());

        await using (var refused = await RawWebSocketClient.ConnectAsync(server.TunnelPort))
        {
            Assert.Equal(403, (await refused.UpgradeAsync("/q").WaitAsync(Bound)).Status);
        }
        Assert.Equal(1, backend.Accepted);
        Assert.Contains("mtt_handshakes_refused_total{reason=\"quota\"} 1", await server.ScrapeAsync());

        // A new quota lets the user in again.
        await server.CommandAsync($$"""{"opt":1,"args_bunch":[{"path":"/q","dst":"{{backend.Address}}","quota":{{2 * Quota}}}]}""");
        Assert.Equal(2 * Quota, (await server.UserAsync("/q")).GetProperty("quota_left").GetInt64());
        await using var again = await RawWebSocketClient.ConnectAsync(server.TunnelPort);
        Assert.Equal(101, (await again.UpgradeAsync("/q").WaitAsync(Bound)).Status);
        await again.AssertEchoesThenClosesAsync("again", Bound);
    }

    [Fact]
    public async Task AQuotaSpentOverSmux_EndsTheSessionWith1008()
    {
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start();
        await server.CommandAsync($$"""{"opt":1,"args_bunch":[{"path":"/qs","dst":"{{backend.Address}}","quota":100000}]}""");

        await using var session = await SmuxTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{server.TunnelPort}/qs"));
        var stream = await session.OpenStreamAsync();
        await stream.WriteAsync(new byte[40_000]);
        Assert.Equal(40_000, (await stream.ReadExactlyAsync(40_000).WaitAsync(Bound)).Length);
        Assert.False(session.Closed.IsCompleted);
        // 80,000 of 100,000 spent: these cross it.
        await stream.WriteAsync(new byte[40_000]);
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.PolicyViolation, await session.Closed.WaitAsync(Bound));
    }
}
