using System.Diagnostics;

namespace Mtt.Benchmarks.Load;

/// <summary>
/// Connection churn: workers that each, in a loop, open a connection, echo one message through it, check
/// it and close it (close handshake; a floor stream: half-close, then the relay's end), until a count of
/// connections is reached or a duration has passed.
/// </summary>
internal static class ChurnRun
{
    // One connection's whole life, handshakes included; beyond this on loopback something is stuck.
    private static readonly TimeSpan ConnectionTimeout = TimeSpan.FromSeconds(30);

    // Failures past this stop the run: a dead server refuses connections as fast as they are made.
    private const int MaxFailures = 1000;

    // Connection times kept for the percentiles when the run is bounded by time (8 bytes each).
    private const int MaxRecordedConnections = 1 << 20;

    public static async Task<ChurnOutcome> RunAsync(LeanTarget target, int concurrency, int count, TimeSpan? duration, int messageSize, CancellationToken cancellationToken)
    {
        var ticks = new long[duration is null ? count : MaxRecordedConnections];
        int claimed = 0, completed = 0, failed = 0;
        string? firstFault = null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var clock = Stopwatch.StartNew();
        long deadline = duration is { } d ? Stopwatch.GetTimestamp() + (long)(d.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;

        async Task WorkerAsync(int worker)
        {
            var message = new byte[messageSize];
            new Random(worker).NextBytes(message);
            var echo = new byte[messageSize];
            while (!stop.IsCancellationRequested)
            {
                if (duration is null ? Interlocked.Increment(ref claimed) > count : Stopwatch.GetTimestamp() >= deadline) return;
                long start = Stopwatch.GetTimestamp();
                try
                {
                    await OneConnectionAsync(target, message, echo, stop.Token).ConfigureAwait(false);
                    long took = Stopwatch.GetTimestamp() - start;
                    int index = Interlocked.Increment(ref completed) - 1;
                    if (index < ticks.Length) ticks[index] = took;
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    Interlocked.CompareExchange(ref firstFault, $"{e.GetType().Name}: {e.Message}", null);
                    if (Interlocked.Increment(ref failed) >= MaxFailures) await stop.CancelAsync().ConfigureAwait(false);
                }
            }
        }

        var workers = new Task[concurrency];
        for (int i = 0; i < concurrency; i++)
        {
            int worker = i;
            workers[i] = Task.Run(() => WorkerAsync(worker), cancellationToken);
        }
        await Task.WhenAll(workers).ConfigureAwait(false);
        double seconds = clock.Elapsed.TotalSeconds;
        cancellationToken.ThrowIfCancellationRequested();

        var recorded = ticks.AsSpan(0, Math.Min(completed, ticks.Length)).ToArray();
        Array.Sort(recorded);
        return new ChurnOutcome(completed, failed, firstFault, seconds, recorded);
    }

    private static async Task OneConnectionAsync(LeanTarget target, byte[] message, byte[] echo, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ConnectionTimeout);
        var channel = await target.Open(timeout.Token).ConfigureAwait(false);
        try
        {
            await channel.SendAsync(message, timeout.Token).ConfigureAwait(false);
            for (int received = 0; received < echo.Length;)
            {
                int n = await channel.ReceiveAsync(echo.AsMemory(received), timeout.Token).ConfigureAwait(false);
                if (n == 0) throw new IOException($"the echo ended after {received} of {echo.Length} bytes");
                received += n;
            }
            if (!echo.AsSpan().SequenceEqual(message)) throw new InvalidDataException("the echo differs from the message sent");
            await channel.CloseAsync().ConfigureAwait(false);
            // A floor stream only half-closed: the relay ends its side once the backend has ended. A tunnel is already done.
            while (await channel.ReceiveAsync(echo, timeout.Token).ConfigureAwait(false) > 0)
            {
            }
        }
        finally
        {
            await channel.DisposeAsync().ConfigureAwait(false);
        }
    }
}
