using System.Buffers.Binary;
using System.Diagnostics;

namespace Mtt.Benchmarks.Load;

/// <summary>
/// Round trips of small messages, one in flight per connection, all connections at once. Each sample is the
/// Stopwatch time from the send to the last byte of its echo, written into a slice of a preallocated array:
/// nothing is allocated per sample. With a rate, each connection sends on a fixed schedule (its share of the
/// rate, phases spread) and waits when early (Task.Delay: about 1 ms granularity); a late send goes at once
/// and is timed from when it went, so coordinated omission is not corrected.
/// </summary>
internal static class LatencyRun
{
    /// <summary>Fills <paramref name="samples"/>[offset .. offset + channels × roundTrips); returns the seconds taken and the first fault.</summary>
    public static async Task<(double Seconds, string? Fault)> RunAsync(IReadOnlyList<EchoChannel> channels, long[] samples, int offset, int roundTrips, int messageSize, double? rate, CancellationToken cancellationToken)
    {
        double intervalTicks = rate is { } r ? channels.Count / r * Stopwatch.Frequency : 0;
        var runs = new Task<string?>[channels.Count];
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < channels.Count; i++)
        {
            var channel = channels[i];
            int at = offset + i * roundTrips;
            long phase = start + (long)(intervalTicks * i / channels.Count);
            runs[i] = Task.Run(() => RoundTripsAsync(channel, samples, at, roundTrips, messageSize, phase, intervalTicks, cancellationToken), cancellationToken);
        }
        string?[] faults = await Task.WhenAll(runs).ConfigureAwait(false);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return (seconds, Array.Find(faults, f => f is not null));
    }

    private static async Task<string?> RoundTripsAsync(EchoChannel channel, long[] samples, int offset, int count, int messageSize, long firstDue, double intervalTicks, CancellationToken cancellationToken)
    {
        var message = new byte[messageSize];
        Random.Shared.NextBytes(message);
        var echo = new byte[messageSize];
        for (int k = 0; k < count; k++)
        {
            if (intervalTicks > 0)
            {
                long wait = firstDue + (long)(k * intervalTicks) - Stopwatch.GetTimestamp();
                if (wait > 0) await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), cancellationToken).ConfigureAwait(false);
            }
            // Each message carries its number, so an echo of an earlier one cannot pass for this one.
            if (messageSize >= sizeof(int)) BinaryPrimitives.WriteInt32LittleEndian(message, k);
            long sent = Stopwatch.GetTimestamp();
            await channel.SendAsync(message, cancellationToken).ConfigureAwait(false);
            for (int received = 0; received < messageSize;)
            {
                int n = await channel.ReceiveAsync(echo.AsMemory(received), cancellationToken).ConfigureAwait(false);
                if (n == 0) return $"the echo ended in round trip {k}, after {received} of {messageSize} bytes";
                received += n;
            }
            samples[offset + k] = Stopwatch.GetTimestamp() - sent;
            if (!echo.AsSpan().SequenceEqual(message)) return $"round trip {k}: the echo differs from the message sent";
        }
        return null;
    }
}
