using System.Net.Sockets;
using Mtt.Tests.Support;

namespace Mtt.Tests.Hardening.Faults;

/// <summary>The backend sends its last bytes and then FIN (a response, then end of output): nothing may be lost at the end.</summary>
public sealed class BackendHalfCloseFaultTests
{
    private static readonly TimeSpan Bound = FaultyNetwork.Bound;

    private const int LastWords = 1024 * 1024;

    private static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static async Task<byte[]> ReadExactlyAsync(Socket socket, int count)
    {
        var buffer = new byte[count];
        int filled = 0;
        while (filled < count)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(filled)).AsTask().WaitAsync(Bound);
            Assert.True(n > 0, $"the backend's input ended after {filled} of {count} bytes");
            filled += n;
        }
        return buffer;
    }

    [Fact]
    public async Task PlainTunnel_BackendSendsItsLastBytesThenFin_ClientGetsEveryByteThenClose1000()
    {
        await using var network = FaultyNetwork.Start();
        await network.StartBystandersAsync();
        var client = await network.PlainAsync(FaultyNetwork.BystanderPath);
        await client.SendBinaryAsync(new[] { EchoBackend.HandOver });
        using var backend = await network.Backend.NextHandedOverAsync().AsTask().WaitAsync(Bound);

        var sent = Pattern(LastWords, 5);
        await backend.SendAsync(sent);
        backend.Shutdown(SocketShutdown.Send);

        var received = new MemoryStream();
        Assert.Equal((ushort)1000, await client.ReadUntilCloseAsync(received).WaitAsync(Bound));
        Assert.Equal(sent, received.ToArray());
        await client.SendCloseAsync(1000);
        Assert.True(await client.IsClosedByServerAsync().WaitAsync(Bound));
        // The tunnel is over: the backend's connection is closed too.
        Assert.Equal(0, await backend.ReceiveAsync(new byte[16].AsMemory()).AsTask().WaitAsync(Bound));

        await network.BystandersAdvancedAsync();
        await network.StopBystandersAndWaitForNoConnectionsAsync();
    }

    /// <summary>smux streams are half-closed: after the backend's FIN the client may still send on the stream until its own FIN.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task SmuxStream_BackendSendsItsLastBytesThenFin_StreamGetsEveryByteThenFin_AndStillCarriesTheClientsBytes(byte version)
    {
        await using var network = FaultyNetwork.Start();
        var session = await network.SmuxAsync(FaultyNetwork.BystanderPath, version);
        await network.StartBystandersAsync(session);
        var stream = await session.OpenStreamAsync();
        await stream.WriteAsync(new[] { EchoBackend.HandOver });
        using var backend = await network.Backend.NextHandedOverAsync().AsTask().WaitAsync(Bound);

        var sent = Pattern(LastWords, 6);
        await backend.SendAsync(sent);
        backend.Shutdown(SocketShutdown.Send);
        Assert.Equal(sent, await stream.ReadToEndAsync().WaitAsync(Bound));
        Assert.True(stream.FinReceived.IsCompleted);

        var after = Pattern(100_000, 7);
        await stream.WriteAsync(after).WaitAsync(Bound);
        Assert.Equal(after, await ReadExactlyAsync(backend, after.Length));
        await stream.CloseWriteAsync();
        Assert.Equal(0, await backend.ReceiveAsync(new byte[16].AsMemory()).AsTask().WaitAsync(Bound));

        await network.BystandersAdvancedAsync();
        Assert.False(session.Closed.IsCompleted);
        await network.StopBystandersAsync();
        await FaultyNetwork.CloseSessionAsync(session);
        await network.Listener.WhenNoConnections().WaitAsync(Bound);
    }
}
