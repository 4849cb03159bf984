using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Mtt.Daemon;
using Mtt.Tests.Support;

namespace Mtt.Tests.Daemon;

/// <summary>
/// The default engine is openssl; on a host without libssl.so.3 (only libssl 1.1, which .NET's SslStream can still
/// use) the server warns once and serves TLS through SslStream, unless -tls-engine openssl was asked for by name.
/// The daemon runs in this process with its libssl named as one that is not installed, the one seam.
/// </summary>
public sealed partial class DaemonTlsEngineFallbackTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private const string Missing = "libssl.so.0.9.mtt-not-installed";
    private const string FallbackText = "serving TLS with -tls-engine sslstream instead";

    [Fact]
    public async Task DefaultEngine_IsOpenSsl_WhenLibssl3Loads()
    {
        var watched = new WatchedLog();
        using var stop = new CancellationTokenSource();
        var run = Program.RunAsync(Options(), watched.Log, stop.Token);

        int port = await TunnelPortAsync(watched, run);
        Assert.Contains("TLS engine: OpenSSL 3", watched.Text);
        Assert.Equal("HTTP/1.1 404", await GetOverTlsAsync(port));
        Assert.DoesNotContain(FallbackText, watched.Text);
        await stop.CancelAsync();
        Assert.Equal(0, await run.WaitAsync(Bound));
    }

    [Fact]
    public async Task DefaultEngine_WithoutLibssl3_WarnsOnceAndServesTlsThroughSslStream()
    {
        var watched = new WatchedLog();
        using var stop = new CancellationTokenSource();
        var run = Program.RunAsync(Options() with { OpenSslLibrary = Missing }, watched.Log, stop.Token);

        int port = await TunnelPortAsync(watched, run);
        Assert.Equal("HTTP/1.1 404", await GetOverTlsAsync(port));
        var warnings = watched.Text.Split('\n').Where(l => l.Contains("WARN", StringComparison.Ordinal)).ToList();
        string warning = Assert.Single(warnings, l => l.Contains(FallbackText, StringComparison.Ordinal));
        Assert.Contains($"{Missing} is not installed", warning);
        Assert.DoesNotContain("TLS engine: OpenSSL", watched.Text);
        await stop.CancelAsync();
        Assert.Equal(0, await run.WaitAsync(Bound));
    }

    [Fact]
    public async Task OpenSslByName_WithoutLibssl3_StopsTheStart()
    {
        var watched = new WatchedLog();
        var options = Options("-tls-engine", "openssl") with { OpenSslLibrary = Missing };

        Assert.Equal(1, await Program.RunAsync(options, watched.Log, CancellationToken.None).WaitAsync(Bound));
        Assert.Contains($"ERROR -tls-engine openssl cannot run: {Missing} is not installed", watched.Text);
        Assert.DoesNotContain(FallbackText, watched.Text);
        Assert.DoesNotContain("tunnel listener on", watched.Text);
    }

    private static ServerOptions Options(params string[] more)
    {
        var parsed = Mtt.Daemon.CommandLine.Parse(["-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-force-tls", .. more]);
        Assert.True(parsed.Options is not null, parsed.Error);
        return parsed.Options;
    }

    private static async Task<int> TunnelPortAsync(WatchedLog watched, Task<int> run)
    {
        var listening = watched.WaitForAsync("controller listening on");
        // A start that fails ends the run instead: its exit code and log say why.
        if (await Task.WhenAny(listening, run).WaitAsync(Bound) == run) Assert.Fail($"the server stopped ({await run}): {watched.Text}");
        return int.Parse(TunnelLine().Match(watched.Text).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A TLS client's request for a path with no user: the first line of the answer.</summary>
    private static async Task<string> GetOverTlsAsync(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port).WaitAsync(Bound);
        await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false), false, static (_, _, _, _) => true);
        await ssl.AuthenticateAsClientAsync("localhost").WaitAsync(Bound);
        await ssl.WriteAsync("GET /nobody HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"u8.ToArray()).AsTask().WaitAsync(Bound);
        byte[] head = new byte[12];
        await ssl.ReadExactlyAsync(head).AsTask().WaitAsync(Bound);
        return Encoding.ASCII.GetString(head);
    }

    [GeneratedRegex(@"tunnel listener on [^ ]*:(\d+) ")]
    private static partial Regex TunnelLine();
}
