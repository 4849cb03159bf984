using System.Security.Cryptography;
using Mtt.Tests.Support;

namespace Mtt.Tests.Hardening.Faults;

/// <summary>
/// Fault: the backend stops reading while the client goes on sending. The server must push back (stop
/// reading the client) instead of buffering what the client tries to send.
/// </summary>
public sealed class BackendStallFaultTests
{
    private static readonly TimeSpan Bound = FaultyNetwork.Bound;

    /// <summary>What the client tries to send: far more than any buffer on the way may hold.</summary>
    private const long Attempt = 512L * 1024 * 1024;

    /// <summary>
    /// What the client may get written before it is stopped: the kernel's socket buffers on both hops
    /// (loopback autotuning takes them to a few MiB each) and the server's bounded pipes. A server that
    /// buffered without bound would take all of <see cref="Attempt"/>.
    /// </summary>
    private const long AcceptedBound = 64L * 1024 * 1024;

    /// <summary>A write pending this long on loopback means the server stopped reading.</summary>
    private static readonly TimeSpan Blocked = TimeSpan.FromSeconds(3);

    private const int Chunk = 64 * 1024;

    /// <summary>The client's side of the stalled transfer: seeded chunks, the first byte telling the backend to stall.</summary>
    private sealed class StalledSender(Func<ReadOnlyMemory<byte>, Task> write)
    {
        private readonly IncrementalHash _sent = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly Random _pattern = new(77);

        /// <summary>Bytes whose write completed before the client was stopped.</summary>
        public long Accepted { get; private set; }

        /// <summary>The write that could not complete: it does once the backend reads again.</summary>
        public Task Pending { get; private set; } = Task.CompletedTask;

        /// <summary>All that will have been sent once <see cref="Pending"/> completes.</summary>
        public long Total => Accepted + Chunk;

        public byte[] SentHash() => _sent.GetHashAndReset();

        /// <summary>Writes chunks until one stays pending for <see cref="Blocked"/>; false if all of <see cref="Attempt"/> went.</summary>
        public async Task<bool> SendUntilBlockedAsync()
        {
            while (Accepted < Attempt)
            {
                var chunk = new byte[Chunk];
                _pattern.NextBytes(chunk);
                if (Accepted == 0) chunk[0] = EchoBackend.Stall;
                _sent.AppendData(chunk);
                var sending = write(chunk);
                if (await Task.WhenAny(sending, Task.Delay(Blocked)) != sending)
                {
                    Pending = sending;
                    return true;
                }
                await sending;
                Accepted += Chunk;
            }
            return false;
        }
    }

    private static async Task<byte[]> HashOfAsync(Func<Memory<byte>, Task<int>> read, long count)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        for (long received = 0; received < count;)
        {
            int n = await read(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count - received)));
            if (n == 0) throw new EndOfStreamException($"the echo ended after {received} of {count} bytes");
            hash.AppendData(buffer, 0, n);
            received += n;
        }
        return hash.GetHashAndReset();
    }

    [Fact]
    public async Task PlainTunnel_BackendStopsReading_ClientIsStoppedWithinABound_OthersOfTheUserFlow_AndNothingIsLostOnceItReads()
    {
        await using var network = FaultyNetwork.Start();
        await network.StartBystandersAsync();
        var client = await network.PlainAsync(FaultyNetwork.BystanderPath);

        var sender = new StalledSender(chunk => client.SendBinaryAsync(chunk));
        Assert.True(await sender.SendUntilBlockedAsync().WaitAsync(TimeSpan.FromMinutes(2)), "the server took 512 MiB for a backend that reads nothing");
        await network.Backend.StalledConnectionSeen.WaitAsync(Bound);
        Assert.True(sender.Accepted < AcceptedBound, $"the server accepted {sender.Accepted} bytes for a backend that reads nothing");
        // The user's other tunnels flow while this one is held, and its write stays held meanwhile.
        await network.BystandersAdvancedAsync();
        Assert.False(sender.Pending.IsCompleted);

        network.Backend.ReleaseStalled();
        var echo = HashOfAsync(async buffer =>
        {
            var frame = await client.ReadFrameAsync();
            if (frame is not { Opcode: 0x2 } data) return 0;
            // Frames are at most 64 KiB here; the buffer is as large.
            data.Payload.CopyTo(buffer);
            return data.Payload.Length;
        }, sender.Total);
        await sender.Pending.WaitAsync(Bound);
        Assert.Equal(sender.SentHash(), await echo.WaitAsync(TimeSpan.FromMinutes(2)));

        await client.SendCloseAsync(1000);
        Assert.Equal((ushort)1000, await client.ReadUntilCloseAsync().WaitAsync(Bound));
        await network.StopBystandersAndWaitForNoConnectionsAsync();
    }

    /// <summary>
    /// Version 1 has no flow control: the session stops reading the WebSocket once its receive budget
    /// (256 KiB) is held for backends, so a stalled backend holds up every stream of its session, as with
    /// the Go server; other sessions and tunnels of the user flow. Version 2: the stalled stream stops at
    /// its window and the session's other streams flow.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task SmuxStream_BackendStopsReading_ClientIsStoppedWithinABound_Version1HoldsTheSession_Version2OnlyTheStream(byte version)
    {
        await using var network = FaultyNetwork.Start();
        await network.StartBystandersAsync();
        var session = await network.SmuxAsync(FaultyNetwork.BystanderPath, version);
        var sibling = Bystander.Smux("sibling stream", await session.OpenStreamAsync(), seed: 9);
        await sibling.AdvancedAsync(3, Bound);
        var stalled = await session.OpenStreamAsync();

        var sender = new StalledSender(chunk => stalled.WriteAsync(chunk));
        Assert.True(await sender.SendUntilBlockedAsync().WaitAsync(TimeSpan.FromMinutes(2)), "the server took 512 MiB for a backend that reads nothing");
        await network.Backend.StalledConnectionSeen.WaitAsync(Bound);
        Assert.True(sender.Accepted < AcceptedBound, $"the server accepted {sender.Accepted} bytes for a backend that reads nothing");

        // The user's other session and plain tunnel flow whatever the version.
        await network.BystandersAdvancedAsync();
        if (version == 1)
        {
            // The sibling's frames queue behind the stalled stream's, which the server no longer reads.
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sibling.AdvancedAsync(1, TimeSpan.FromSeconds(2)));
        }
        else
        {
            Assert.True(stalled.WindowExhausted.IsCompleted, "the stalled stream was stopped by something other than its window");
            await sibling.AdvancedAsync(3, Bound);
        }
        Assert.False(sender.Pending.IsCompleted);

        network.Backend.ReleaseStalled();
        var echo = HashOfAsync(buffer => stalled.ReadAsync(buffer), sender.Total);
        await sender.Pending.WaitAsync(Bound);
        Assert.Equal(sender.SentHash(), await echo.WaitAsync(TimeSpan.FromMinutes(2)));
        await sibling.AdvancedAsync(3, Bound);

        await sibling.StopAsync(Bound);
        await stalled.CloseWriteAsync();
        Assert.Empty(await stalled.ReadToEndAsync().WaitAsync(Bound));
        await FaultyNetwork.CloseSessionAsync(session);
        await network.StopBystandersAndWaitForNoConnectionsAsync();
    }
}
