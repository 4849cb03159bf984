using System.Diagnostics;
using System.Security.Cryptography;

namespace Mtt.Benchmarks.Load;

/// <summary>Sends a total over several channels at once, each one sending and receiving concurrently, and checks the echo.</summary>
internal static class EchoRun
{
    // Enough to take whatever one read gives (a TLS record is 16 KiB, a message up to the chunk).
    private const int ReceiveBufferSize = 256 * 1024;

    public static async Task<EchoOutcome> RunAsync(IReadOnlyList<EchoChannel> channels, long total, int chunk, VerifyMode mode, CancellationToken cancellationToken)
    {
        var runs = new Task<string?>[channels.Count];
        long share = total / channels.Count;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < channels.Count; i++)
        {
            long bytes = i == channels.Count - 1 ? total - share * (channels.Count - 1) : share;
            var channel = channels[i];
            runs[i] = Task.Run(() => EchoOneAsync(channel, bytes, chunk, mode, cancellationToken), cancellationToken);
        }
        string?[] faults = await Task.WhenAll(runs).ConfigureAwait(false);
        double seconds = clock.Elapsed.TotalSeconds;
        string? fault = Array.Find(faults, f => f is not null);
        return new EchoOutcome(total, seconds, fault is null, fault);
    }

    /// <summary>Null when the echo came back exact; otherwise what went wrong.</summary>
    private static async Task<string?> EchoOneAsync(EchoChannel channel, long total, int chunk, VerifyMode mode, CancellationToken cancellationToken)
    {
        using var sentHash = mode == VerifyMode.Sha256 ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        using var receivedHash = mode == VerifyMode.Sha256 ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        // A faulty echo stops the receiver; the sender may then be stuck on backpressure, so it is cancelled.
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        var send = Task.Run(async () =>
        {
            var pattern = new EchoPattern();
            while (pattern.Position < total)
            {
                var data = pattern.Next((int)Math.Min(chunk, total - pattern.Position));
                sentHash?.AppendData(data.Span);
                await channel.SendAsync(data, abandon.Token).ConfigureAwait(false);
            }
        }, abandon.Token);

        var receive = Task.Run(async () =>
        {
            var expected = new EchoPattern();
            var buffer = GC.AllocateUninitializedArray<byte>(ReceiveBufferSize);
            long received = 0;
            while (received < total)
            {
                int n = await channel.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (n == 0) return $"the echo ended after {received:N0} of {total:N0} bytes";
                if (received + n > total) return $"more bytes came back ({received + n:N0}) than were sent ({total:N0})";
                if (receivedHash is not null) receivedHash.AppendData(buffer, 0, n);
                else if (!expected.Verify(buffer.AsSpan(0, n))) return $"the echo differs from what was sent within bytes {received:N0}..{received + n:N0}";
                received += n;
            }
            return null;
        }, cancellationToken);

        string? fault = await receive.ConfigureAwait(false);
        if (fault is not null)
        {
            await abandon.CancelAsync().ConfigureAwait(false);
            try
            {
                await send.ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or System.Net.WebSockets.WebSocketException or IOException)
            {
            }
            return fault;
        }
        await send.ConfigureAwait(false);
        if (fault is null && sentHash is not null && !sentHash.GetHashAndReset().AsSpan().SequenceEqual(receivedHash!.GetHashAndReset()))
            fault = "SHA-256 of the echo differs from SHA-256 of what was sent";
        return fault;
    }
}
