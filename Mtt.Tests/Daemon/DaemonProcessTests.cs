using System.Net.Http;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Mtt.Tests.Support;

namespace Mtt.Tests.Daemon;

/// <summary>The executable as an operator runs it: flags, start-up errors, a user added with a POST, a TLS tunnel, SIGTERM.</summary>
public sealed class DaemonProcessTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("sslstream")]
    [InlineData("openssl")]
    public async Task ForceTls_ServesATunnel_ForAUserAddedThroughTheController_AndStopsOnSigterm(string engine)
    {
        await using var backend = new EchoBackend();
        await using var daemon = DaemonProcess.Start("-b", "127.0.0.1:0", "--c=127.0.0.1:0", "-force-tls", "-timeout=30s", "-tls-engine", engine);
        if (engine == "openssl") await daemon.WaitForStderrAsync("TLS engine: OpenSSL 3").WaitAsync(Bound);
        var (tunnelPort, controllerPort) = await daemon.Ports.WaitAsync(Bound);

        using var http = new HttpClient();
        var body = $$"""{"opt":1,"args_bunch":[{"path":"/u1","dst":"{{backend.Address}}"}]}""";
        var reply = await http.PostAsync($"http://127.0.0.1:{controllerPort}", new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded")).WaitAsync(Bound);
        Assert.Equal("""{"res":1}""", await reply.Content.ReadAsStringAsync());

        X509Certificate2? presented = null;
        using var client = new ClientWebSocket();
        client.Options.AddSubProtocol("smux_off");
        client.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            presented = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return true;
        };
        await client.ConnectAsync(new Uri($"wss://127.0.0.1:{tunnelPort}/u1"), CancellationToken.None).WaitAsync(Bound);
        Assert.NotNull(presented);
        Assert.NotNull(presented.GetECDsaPublicKey());
        Assert.Equal("localhost", presented.GetNameInfo(X509NameType.DnsName, forIssuer: false));

        var message = Encoding.ASCII.GetBytes("through the daemon");
        await client.SendAsync(message, WebSocketMessageType.Binary, true, CancellationToken.None).WaitAsync(Bound);
        var buffer = new byte[256];
        var received = await client.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(message, buffer.AsSpan(0, received.Count).ToArray());

        await daemon.TerminateAsync();
        Assert.Equal(0, await daemon.WaitForExitAsync(Bound));
    }

    [Fact]
    public async Task MissingCertificateFile_StopsTheStart_NamingTheFile()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"mtt-missing-{Guid.NewGuid():N}.pem");
        await using var daemon = DaemonProcess.Start("-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-cert", missing, "-key", missing);
        Assert.Equal(1, await daemon.WaitForExitAsync(Bound));
        Assert.Contains(missing, daemon.Stderr);
    }

    [Fact]
    public async Task UnknownFlag_ExitsWith2_AndPrintsTheUsage()
    {
        await using var daemon = DaemonProcess.Start("-no-such-flag");
        Assert.Equal(2, await daemon.WaitForExitAsync(Bound));
        Assert.Contains("flag provided but not defined: -no-such-flag", daemon.Stderr);
        Assert.Contains("-force-tls", daemon.Stderr);
    }

    [Fact]
    public async Task ProxyProtocolAndTrustedProxy_AreAccepted_AndATunnelBehindAProxyHeaderLogsItsAddress()
    {
        await using var backend = new EchoBackend();
        await using var daemon = DaemonProcess.Start("-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-verbose", "-proxy-protocol", "-trusted-proxy", "127.0.0.1/32,::1/128");
        var (tunnelPort, controllerPort) = await daemon.Ports.WaitAsync(Bound);
        await daemon.WaitForStderrAsync("X-Forwarded-For / X-Real-IP believed from 127.0.0.1/32,::1/128 only").WaitAsync(Bound);
        Assert.Contains("must start with a PROXY protocol header", daemon.Stderr);

        using var http = new HttpClient();
        var body = $$"""{"opt":1,"args_bunch":[{"path":"/u1","dst":"{{backend.Address}}"}]}""";
        var reply = await http.PostAsync($"http://127.0.0.1:{controllerPort}", new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded")).WaitAsync(Bound);
        Assert.Equal("""{"res":1}""", await reply.Content.ReadAsStringAsync());

        await using (var client = await RawWebSocketClient.ConnectAsync(tunnelPort, preamble: Encoding.ASCII.GetBytes("PROXY TCP4 203.0.113.7 198.51.100.1 51234 443\r\n")).WaitAsync(Bound))
        {
            var (status, head) = await client.UpgradeAsync("/u1").WaitAsync(Bound);
            Assert.True(status == 101, head);
            await daemon.WaitForStderrAsync("203.0.113.7:51234 via 127.0.0.1:").WaitAsync(Bound);
        }

        await daemon.TerminateAsync();
        Assert.Equal(0, await daemon.WaitForExitAsync(Bound));
    }

    [Fact]
    public async Task BadTrustedProxy_ExitsWith2_WithAClearMessage()
    {
        await using var daemon = DaemonProcess.Start("-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-trusted-proxy", "10.0.0.0/8,10.0.0.1/33");
        Assert.Equal(2, await daemon.WaitForExitAsync(Bound));
        Assert.Contains("invalid value \"10.0.0.0/8,10.0.0.1/33\" for flag -trusted-proxy: \"10.0.0.1/33\": the prefix length must be 0 to 32", daemon.Stderr);
    }

    [Fact]
    public async Task PortInUse_StopsTheStart_WithAClearError()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        int port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        await using var daemon = DaemonProcess.Start("-b", $"127.0.0.1:{port}", "-c", "127.0.0.1:0");
        Assert.Equal(1, await daemon.WaitForExitAsync(Bound));
        Assert.Contains("cannot listen", daemon.Stderr);
    }

    [Fact]
    public async Task HostNames_InBAndC_AreResolvedAtStart_AndBothListenersServe()
    {
        await using var backend = new EchoBackend();
        await using var daemon = DaemonProcess.Start("-b", "localhost:0", "-c", "localhost:0");
        var (tunnelPort, controllerPort) = await daemon.Ports.WaitAsync(Bound);

        // Whichever loopback address "localhost" resolved to, a client that asks for "localhost" reaches it.
        using var http = new HttpClient { Timeout = Bound };
        var body = $$"""{"opt":1,"args_bunch":[{"path":"/u1","dst":"{{backend.Address}}"}]}""";
        var reply = await http.PostAsync($"http://localhost:{controllerPort}", new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal("""{"res":1}""", await reply.Content.ReadAsStringAsync());
        using var client = new ClientWebSocket();
        client.Options.AddSubProtocol("smux_off");
        await client.ConnectAsync(new Uri($"ws://localhost:{tunnelPort}/u1"), CancellationToken.None).WaitAsync(Bound);
        var message = Encoding.ASCII.GetBytes("by name");
        await client.SendAsync(message, WebSocketMessageType.Binary, true, CancellationToken.None).WaitAsync(Bound);
        var buffer = new byte[64];
        var received = await client.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(message, buffer.AsSpan(0, received.Count).ToArray());
    }
}
