using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Mtt.Tests.Support;

namespace Mtt.Benchmarks.Load;

/// <summary>
/// `attack`: fresh clients' handshake times (connect to 101) with no attack and while a flood of silent and
/// dripping connections (<see cref="AttackFlood"/>) holds the server's door, in turns; p50/p99 of each and
/// their ratio. A fresh client that gets no 101 within <see cref="ClientTimeout"/> counts as failed.
/// </summary>
internal static class AttackScenario
{
    // Beyond the server's 10 s handshake timeout: a client shut out is seen as failed, not as merely slow.
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(15);

    // Every flood connection open at least once; 6,000 connects on a busy machine take a few seconds.
    private static readonly TimeSpan FloodStartTimeout = TimeSpan.FromSeconds(120);

    // The server's side of the flood's connections is closed as the harness closes them; let it see the ends.
    private static readonly TimeSpan AfterFlood = TimeSpan.FromSeconds(2);

    // Descriptors beyond the flood: the fresh clients, the echo backend's ends, the runtime.
    private const int SpareDescriptors = 512;

    private static readonly byte[] Head = Encoding.ASCII.GetBytes(
        $"GET {TunnelServerTarget.UserPath} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: smux_off\r\n\r\n");

    public static async Task<(List<AttackMeasurement> Runs, AttackSummary Summary)> RunAsync(LoadOptions options, LoadReport report, CancellationToken cancellationToken)
    {
        int floodSize = options.SilentConnections + options.DrippingConnections;
        report.HarnessOpenFilesLimit = OpenFilesLimit.RaiseTo(floodSize + SpareDescriptors);
        bool tls = !options.Plain;
        await using var backend = new EchoBackend();
        Progress.Write($"starting mtt-mu-server ({(tls ? "TLS" : "plain")})");
        var server = await TunnelServerTarget.StartAsync(options, tls, backend, cancellationToken).ConfigureAwait(false);
        var runs = new List<AttackMeasurement>();
        var quiet = new List<long>();
        var attacked = new List<long>();
        try
        {
            report.ServerOpenFilesLimit = ProcFs.ReadOpenFilesLimit(server.Process.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Progress.Write($"warming up with {options.WarmupConnections} fresh clients");
            await MeasureAsync("warm-up", server, tls, 0, options.WarmupConnections, null, null, null, cancellationToken).ConfigureAwait(false);

            for (int run = 1; run <= options.Repeat; run++)
            {
                var calm = await MeasureAsync("quiet", server, tls, run, options.Connections, options.Duration, null, quiet, cancellationToken).ConfigureAwait(false);
                runs.Add(calm);
                Progress.Write($"run {run}/{options.Repeat} quiet: p50 {calm.MillisecondsP50:F1} ms, p99 {calm.MillisecondsP99:F1} ms, failed {calm.Failed}");

                Progress.Write($"run {run}/{options.Repeat}: flood of {options.SilentConnections} silent and {options.DrippingConnections} dripping connections, {options.PerAddress} per address");
                var flood = await AttackFlood.StartAsync(server.TunnelPort, tls, options.SilentConnections, options.DrippingConnections, options.PerAddress, FloodStartTimeout, cancellationToken).ConfigureAwait(false);
                AttackMeasurement under;
                try
                {
                    under = await MeasureAsync("attack", server, tls, run, options.Connections, options.Duration, flood, attacked, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    await flood.DisposeAsync().ConfigureAwait(false);
                }
                runs.Add(under);
                Progress.Write($"run {run}/{options.Repeat} attack: p50 {under.MillisecondsP50:F1} ms, p99 {under.MillisecondsP99:F1} ms, failed {under.Failed}" +
                    $"{(under.FirstFault is null ? "" : $" ({under.FirstFault})")}; flood open {under.AttackOpen}, reopened {under.AttackReopened}");
                await Task.Delay(AfterFlood, cancellationToken).ConfigureAwait(false);
                server.Process.ThrowIfExited();
            }
        }
        finally
        {
            await server.DisposeAsync().ConfigureAwait(false);
            report.AddLog(server.Process);
        }
        quiet.Sort();
        attacked.Sort();
        var summary = new AttackSummary(quiet.Count,
            Ms(NearestRank.Of(quiet.ToArray(), 0.50)), Ms(NearestRank.Of(quiet.ToArray(), 0.99)),
            Ms(NearestRank.Of(attacked.ToArray(), 0.50)), Ms(NearestRank.Of(attacked.ToArray(), 0.99)),
            runs.Where(r => r.Phase == "attack").Sum(r => r.Failed), options.SilentConnections, options.DrippingConnections, options.PerAddress);
        return (runs, summary);
    }

    /// <summary>Fresh clients one after another: <paramref name="clients"/> of them, or as many as <paramref name="duration"/> allows when given.</summary>
    private static async Task<AttackMeasurement> MeasureAsync(string phase, TunnelServerTarget server, bool tls, int run, int clients, TimeSpan? duration, AttackFlood? flood,
        List<long>? pooled, CancellationToken cancellationToken)
    {
        var times = new List<long>();
        int failed = 0;
        string? firstFault = null;
        long reopenedBefore = flood?.Opened ?? 0;
        var phaseClock = Stopwatch.StartNew();
        for (int i = 0; duration is { } d ? phaseClock.Elapsed < d : i < clients; i++)
        {
            long start = Stopwatch.GetTimestamp();
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(ClientTimeout);
                await HandshakeAsync(server.TunnelPort, tls, timeout.Token).ConfigureAwait(false);
                times.Add(Stopwatch.GetTimestamp() - start);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is IOException or SocketException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
            {
                failed++;
                firstFault ??= $"{e.GetType().Name} after {Stopwatch.GetElapsedTime(start).TotalSeconds:F1} s: {e.Message}";
            }
        }
        pooled?.AddRange(times);
        var sorted = times.ToArray();
        Array.Sort(sorted);
        return new AttackMeasurement(phase, tls, run, times.Count + failed, failed, firstFault,
            Ms(NearestRank.Of(sorted, 0.50)), Ms(NearestRank.Of(sorted, 0.99)), Ms(sorted.Length == 0 ? 0 : sorted[^1]),
            flood?.Open ?? 0, flood is null ? 0 : flood.Opened - reopenedBefore);
    }

    /// <summary>A fresh client, as mtt-client: TCP, a full TLS handshake (no resumption), the Go client's head; returns once the 101 is read.</summary>
    private static async Task HandshakeAsync(int port, bool tls, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, port, cancellationToken).ConfigureAwait(false);
        Stream stream = new NetworkStream(socket, ownsSocket: false);
        try
        {
            if (tls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(LoadClientTls.Options, cancellationToken).ConfigureAwait(false);
            }
            await ReadUpgradeAsync(stream, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task ReadUpgradeAsync(Stream stream, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(Head, cancellationToken).ConfigureAwait(false);
        byte[] response = new byte[1024];
        int length = 0;
        while (response.AsSpan(0, length).IndexOf("\r\n\r\n"u8) < 0)
        {
            if (length == response.Length) throw new IOException("response head over 1 KiB");
            int n = await stream.ReadAsync(response.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (n == 0) throw new IOException("closed before a response head");
            length += n;
        }
        if (!response.AsSpan(0, length).StartsWith("HTTP/1.1 101"u8)) throw new IOException($"not a 101: {Encoding.ASCII.GetString(response, 0, Math.Min(length, 40))}");
    }

    private static double Ms(long ticks) => NearestRank.Microseconds(ticks) / 1000;
}
