using System.Diagnostics;

namespace Mtt.Benchmarks.Load.Soak;

/// <summary>
/// The valid side of the soak: tunnels (smux_off) and smux sessions that open, carry random amounts of random bytes
/// in random write sizes (a 1-byte write among them), check the echo byte for byte, and close; and bursts of
/// many handshakes at once, beyond the server's -max-handshakes. Every failure is a fault of the server under test.
/// </summary>
internal static class SoakValidClients
{
    private static readonly TimeSpan EchoBound = TimeSpan.FromSeconds(60);

    /// <summary>A few echoes through each kind of client before the soak: the JIT, pools, the server's first connections.</summary>
    public static async Task WarmAsync(TunnelClients tunnels, TunnelClients smux, CancellationToken stop)
    {
        var tally = new SoakTally();
        var random = new Random(0);
        for (int i = 0; i < 10; i++)
        {
            await EchoOnceAsync(tunnels, "warm-up", 4096, random, tally, stop).ConfigureAwait(false);
            await EchoOnceAsync(smux, "warm-up", 4096, random, tally, stop).ConfigureAwait(false);
        }
        if (tally.Faults.FirstOrDefault() is { } fault) throw new IOException($"warm-up echo failed: {fault}");
    }

    public static async Task EchoLoopAsync(TunnelClients clients, string label, SoakTally tally, int seed, CancellationToken stop)
    {
        var random = new Random(seed);
        while (!stop.IsCancellationRequested)
        {
            int size = random.Next(4) == 0 ? random.Next(1, 64) : random.Next(1, 512 * 1024);
            if (await EchoOnceAsync(clients, label, size, random, tally, stop).ConfigureAwait(false)) tally.Add($"valid {label} echoed");
        }
    }

    /// <summary><paramref name="burst"/> handshakes at once, each carrying a small echo, then a pause to let the door clear.</summary>
    public static async Task BurstLoopAsync(TunnelClients clients, int burst, SoakTally tally, int seed, CancellationToken stop)
    {
        var random = new Random(seed);
        while (!stop.IsCancellationRequested)
        {
            var tasks = new Task<bool>[burst];
            for (int i = 0; i < burst; i++) tasks[i] = EchoOnceAsync(clients, "burst", random.Next(1, 4096), new Random(random.Next()), tally, stop);
            bool[] results = await Task.WhenAll(tasks).ConfigureAwait(false);
            tally.Add("valid burst echoed", results.Count(r => r));
            try { await Task.Delay(TimeSpan.FromMilliseconds(500), stop).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    private static async Task<bool> EchoOnceAsync(TunnelClients clients, string label, int size, Random random, SoakTally tally, CancellationToken stop)
    {
        byte[] sent = new byte[size];
        random.NextBytes(sent);
        byte[] received = new byte[size];
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(stop);
        bound.CancelAfter(EchoBound);
        var clock = Stopwatch.StartNew();
        try
        {
            await using var channel = await clients.OpenAsync(bound.Token).ConfigureAwait(false);
            var reading = ReadExactlyAsync(channel, received, bound.Token);
            for (int offset = 0; offset < size;)
            {
                int chunk = Math.Min(size - offset, random.Next(3) == 0 ? 1 : random.Next(1, 64 * 1024));
                await channel.SendAsync(sent.AsMemory(offset, chunk), bound.Token).ConfigureAwait(false);
                offset += chunk;
            }
            await reading.ConfigureAwait(false);
            if (!sent.AsSpan().SequenceEqual(received))
            {
                tally.Fault($"{label}: echo of {size} bytes differs at byte {sent.AsSpan().CommonPrefixLength(received)}");
                return false;
            }
            tally.Echoed(size);
            await channel.CloseAsync().ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            tally.Fault($"{label}: {e.GetType().Name} after {clock.Elapsed.TotalSeconds:F1} s ({size} bytes): {e.Message}{(e.InnerException is { } inner ? $" ({inner.GetType().Name}: {inner.Message})" : "")}");
            return false;
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            return false;
        }
    }

    private static async Task ReadExactlyAsync(EchoChannel channel, byte[] into, CancellationToken cancellationToken)
    {
        for (int filled = 0; filled < into.Length;)
        {
            int n = await channel.ReceiveAsync(into.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (n == 0) throw new IOException($"ended after {filled} of {into.Length} bytes");
            filled += n;
        }
    }
}
