using System.Net.Sockets;
using Mtt.Tests.Support;

namespace Mtt.Tests.Hardening.Faults;

/// <summary>Fault: the backend resets its connection (RST) in the middle of a transfer.</summary>
public sealed class BackendResetFaultTests
{
    private static readonly TimeSpan Bound = FaultyNetwork.Bound;

    private const int BytesBeforeReset = 200 * 1024;

    private static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static void Reset(Socket backend)
    {
        backend.LingerState = new LingerOption(true, 0);
        backend.Close();
    }

    /// <summary>Reads what the backend sends on <paramref name="socket"/> and drops it, until <paramref name="count"/> bytes came.</summary>
    private static async Task DrainAsync(Socket socket, long count)
    {
        var buffer = new byte[64 * 1024];
        for (long read = 0; read < count;)
        {
            int n = await socket.ReceiveAsync(buffer);
            Assert.True(n > 0, "the server ended the backend connection early");
            read += n;
        }
    }

    /// <summary>Sends 16 KiB messages until the connection fails; the faulty tunnel's client, busy when the reset comes.</summary>
    private static async Task SendUntilClosedAsync(RawWebSocketClient client, CancellationToken stop)
    {
        var chunk = new byte[16 * 1024];
        try
        {
            while (!stop.IsCancellationRequested) await client.SendBinaryAsync(chunk);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PlainTunnel_BackendResetMidStream_ClientGetsEveryByteSentBeforeThenClose1011_OthersLoseNothing(bool clientBusySending)
    {
        await using var network = FaultyNetwork.Start();
        await network.StartBystandersAsync();
        var client = await network.PlainAsync(FaultyNetwork.BystanderPath);
        await client.SendBinaryAsync(new[] { EchoBackend.HandOver });
        var backend = await network.Backend.NextHandedOverAsync().AsTask().WaitAsync(Bound);

        var sent = Pattern(BytesBeforeReset, 7);
        await backend.SendAsync(sent);
        var received = new MemoryStream();
        while (received.Length < sent.Length)
        {
            var frame = await client.ReadFrameAsync().WaitAsync(Bound);
            Assert.True(frame is { Opcode: 0x2 }, "expected the backend's bytes");
            received.Write(frame!.Value.Payload);
        }
        Assert.Equal(sent, received.ToArray());

        using var stopSending = new CancellationTokenSource();
        var sending = Task.CompletedTask;
        if (clientBusySending)
        {
            sending = SendUntilClosedAsync(client, stopSending.Token);
            // The client's bytes are reaching the backend when it resets.
            await DrainAsync(backend, 256 * 1024).WaitAsync(Bound);
        }
        Reset(backend);

        // A reset backend is a failed backend: close 1011, as when it cannot be reached.
        var code = await client.ReadUntilCloseAsync().WaitAsync(Bound);
        stopSending.Cancel();
        Assert.Equal((ushort)1011, code);
        await sending.WaitAsync(Bound);
        Assert.True(await client.IsClosedByServerAsync().WaitAsync(Bound));

        await network.BystandersAdvancedAsync();
        await network.StopBystandersAndWaitForNoConnectionsAsync();
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(1, true)]
    [InlineData(2, false)]
    [InlineData(2, true)]
    public async Task SmuxStream_BackendResetMidStream_GetsEveryByteSentBeforeThenFin_TheSessionsOtherStreamsLoseNothing(byte version, bool clientBusySending)
    {
        await using var network = FaultyNetwork.Start();
        var session = await network.SmuxAsync(FaultyNetwork.BystanderPath, version);
        await network.StartBystandersAsync(session);
        var doomed = await session.OpenStreamAsync();
        await doomed.WriteAsync(new[] { EchoBackend.HandOver });
        var backend = await network.Backend.NextHandedOverAsync().AsTask().WaitAsync(Bound);

        var sent = Pattern(BytesBeforeReset, 8);
        await backend.SendAsync(sent);
        Assert.Equal(sent, await doomed.ReadExactlyAsync(sent.Length).WaitAsync(Bound));

        using var stopSending = new CancellationTokenSource();
        var sending = Task.CompletedTask;
        if (clientBusySending)
        {
            // Within the budget (version 1) and the window (version 2), so the session never waits on this stream.
            sending = doomed.WriteAsync(new byte[128 * 1024]);
            await DrainAsync(backend, 64 * 1024).WaitAsync(Bound);
        }
        Reset(backend);

        // smux has no reset: the stream ends with FIN after the bytes that did arrive, and nothing else.
        await doomed.FinReceived.WaitAsync(Bound);
        Assert.Empty(await doomed.ReadToEndAsync().WaitAsync(Bound));
        await sending.WaitAsync(Bound);

        await network.BystandersAdvancedAsync();
        Assert.False(session.Closed.IsCompleted);
        await network.StopBystandersAsync();
        await FaultyNetwork.CloseSessionAsync(session);
        await network.Listener.WhenNoConnections().WaitAsync(Bound);
    }
}
