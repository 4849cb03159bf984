using System.Diagnostics;
using System.Globalization;
using System.Net.Security;
using Mtt.Benchmarks.Load;
using Mtt.Tests.Support;

namespace Mtt.Tests.Interop.GoAnchor;

/// <summary>
/// The load harness's Go anchor (Mtt.Benchmarks/Load/go/anchor) builds from Debian's Go packages and serves as the
/// original server did, so `load --anchor` cannot rot unseen: every TLS goal of the server is a ratio to it.
/// Missing Go is a failure, not a skip (.ci/install-test-prerequisites.sh installs it).
/// </summary>
public sealed class GoAnchorTests
{
    private const string UserPath = "/anchor";
    private const int TunnelBytes = 1 << 20;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TlsTunnel_EchoesOneMebibyteByteExact_AndFinishesTheCloseHandshake()
    {
        await using var backend = new EchoBackend();
        await using var anchor = await AnchorProcess.StartAsync(["-route", $"{UserPath}={backend.Address}"]);
        using var timeout = new CancellationTokenSource(Bound);
        var tls = new SslClientAuthenticationOptions { TargetHost = "localhost", RemoteCertificateValidationCallback = static (_, _, _, _) => true };

        await using var client = await RawWebSocketClient.OpenTunnelAsync(anchor.Port, tls, UserPath, "smux_off", timeout.Token);
        var sent = new byte[TunnelBytes];
        new SeededBytes(14).Fill(sent);
        var sending = Task.Run(async () =>
        {
            for (int offset = 0; offset < sent.Length; offset += 16 * 1024)
                await client.SendBinaryAsync(ReadOnlyMemory<byte>.Empty, sent.AsMemory(offset, 16 * 1024), timeout.Token);
        });
        var received = new byte[TunnelBytes];
        int filled = 0;
        while (filled < received.Length)
        {
            int n = await client.ReceiveAsync(received.AsMemory(filled), timeout.Token);
            Assert.True(n > 0, $"the tunnel ended after {filled} of {TunnelBytes} bytes");
            filled += n;
        }
        await sending;

        Assert.True(sent.AsSpan().SequenceEqual(received), "the echo through the Go anchor differs from what was sent");
        Assert.True(await client.CloseAsync(), "the Go anchor did not finish the close handshake");
        Assert.Equal(1, backend.Accepted);
    }

    [Fact]
    public async Task UnknownPath_Gets404_AndDialsNoBackend()
    {
        await using var backend = new EchoBackend();
        await using var anchor = await AnchorProcess.StartAsync(["-route", $"{UserPath}={backend.Address}", "-plain"]);

        await using var client = await RawWebSocketClient.ConnectAsync(anchor.Port);
        var (status, _) = await client.UpgradeAsync("/nobody").WaitAsync(Bound);

        Assert.Equal(404, status);
        Assert.Equal(0, backend.Accepted);
    }

    [Fact]
    public async Task SmuxVersion2Session_EchoesTwoStreamsByteExact()
    {
        await using var backend = new EchoBackend();
        await using var anchor = await AnchorProcess.StartAsync(["-route", $"{UserPath}={backend.Address}", "-plain", "-smux-version", "2"]);

        await using var session = await SmuxTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{anchor.Port}{UserPath}"), version: 2);
        var streams = new[] { await session.OpenStreamAsync(), await session.OpenStreamAsync() };
        var echoes = streams.Select(async (stream, i) =>
        {
            var sent = new byte[300 * 1024];
            new SeededBytes((uint)(i + 1)).Fill(sent);
            var writing = stream.WriteAsync(sent);
            byte[] back = await stream.ReadExactlyAsync(sent.Length);
            await writing;
            return sent.AsSpan().SequenceEqual(back);
        }).ToArray();

        bool[] exact = await Task.WhenAll(echoes).WaitAsync(Bound);
        Assert.All(exact, Assert.True);
        Assert.Equal(2, backend.Accepted);
    }

    /// <summary>The built anchor, started on a free loopback port; killed on dispose.</summary>
    private sealed class AnchorProcess : IAsyncDisposable
    {
        private readonly Process _process;

        private AnchorProcess(Process process, int port)
        {
            _process = process;
            Port = port;
        }

        public int Port { get; }

        public static async Task<AnchorProcess> StartAsync(string[] arguments)
        {
            string binary = await GoAnchorBuild.BuildAsync();
            var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string argument in arguments.Append("-listen").Append("127.0.0.1:0")) start.ArgumentList.Add(argument);
            var process = Process.Start(start)!;
            try
            {
                // "anchor ready tunnel 127.0.0.1:PORT" is its first line once it listens.
                string? line = await process.StandardOutput.ReadLineAsync().WaitAsync(Bound);
                if (line is null || !line.StartsWith("anchor ready ", StringComparison.Ordinal))
                {
                    process.Kill();
                    Assert.Fail($"the anchor did not start: {line} {await process.StandardError.ReadToEndAsync().WaitAsync(Bound)}");
                }
                return new AnchorProcess(process, int.Parse(line.AsSpan(line.LastIndexOf(':') + 1), CultureInfo.InvariantCulture));
            }
            catch
            {
                process.Kill();
                process.Dispose();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            _process.Kill();
            await _process.WaitForExitAsync().WaitAsync(Bound);
            _process.Dispose();
        }
    }
}
