using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using Mtt.Tests.Support;

namespace Mtt.Tests.Daemon;

/// <summary>Certificate renewal without a restart: the files change (or SIGHUP), new handshakes see the new pair, live tunnels go on.</summary>
public sealed class DaemonCertificateReloadTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("sslstream")]
    [InlineData("openssl")]
    public async Task ReplacedFiles_ReachNewHandshakes_WhileAnOpenTunnelStillEchoes(string engine)
    {
        using var directory = new TemporaryDirectory();
        using var first = TestCertificates.CreateChain();
        using var second = TestCertificates.CreateChain();
        var files = TestCertificates.WriteFiles(directory.Path, first, TestKeyFormat.Pkcs8Ec);
        await using var backend = new EchoBackend();
        await using var daemon = DaemonProcess.Start("-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-cert", files.CertPath, "-key", files.KeyPath, "-tls-engine", engine);
        var (tunnelPort, controllerPort) = await daemon.Ports.WaitAsync(Bound);
        await DaemonDrainTests.AddUserAsync(controllerPort, "/u1", backend.Address);
        using var tunnel = await ConnectTlsTunnelAsync(tunnelPort, "/u1");
        Assert.Equal(first.Leaf.Thumbprint, await PresentedThumbprintAsync(tunnelPort));

        ReplacePair(directory, second);
        await daemon.WaitForStderrAsync("certificate reloaded (files changed)").WaitAsync(Bound);

        Assert.Equal(second.Leaf.Thumbprint, await PresentedThumbprintAsync(tunnelPort));
        await DaemonDrainTests.EchoAsync(tunnel, "over the old handshake");
    }

    [Theory]
    [InlineData("sslstream")]
    [InlineData("openssl")]
    public async Task MismatchedNewPair_KeepsTheOldCertificate_AndSaysWhy(string engine)
    {
        using var directory = new TemporaryDirectory();
        using var first = TestCertificates.CreateChain();
        using var second = TestCertificates.CreateChain();
        var files = TestCertificates.WriteFiles(directory.Path, first, TestKeyFormat.Pkcs8Ec);
        await using var daemon = DaemonProcess.Start("-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-cert", files.CertPath, "-key", files.KeyPath, "-tls-engine", engine);
        var (tunnelPort, _) = await daemon.Ports.WaitAsync(Bound);

        // The new certificate with the old key: what a renewal that got only half-way leaves behind.
        string staged = directory.Write("staged-cert.pem", TestCertificates.ExportChainPem(second.Leaf, second.Intermediate));
        File.Move(staged, files.CertPath, overwrite: true);
        await daemon.WaitForStderrAsync("certificate reload (files changed) failed, keeping the current certificate").WaitAsync(Bound);

        Assert.Equal(first.Leaf.Thumbprint, await PresentedThumbprintAsync(tunnelPort));
    }

    [Theory]
    [InlineData("sslstream")]
    [InlineData("openssl")]
    public async Task Sighup_ReloadsThePair(string engine)
    {
        using var directory = new TemporaryDirectory();
        using var first = TestCertificates.CreateChain();
        using var second = TestCertificates.CreateChain();
        var files = TestCertificates.WriteFiles(directory.Path, first, TestKeyFormat.Pkcs8Ec);
        await using var daemon = DaemonProcess.Start("-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-cert", files.CertPath, "-key", files.KeyPath, "-tls-engine", engine);
        var (tunnelPort, _) = await daemon.Ports.WaitAsync(Bound);

        ReplacePair(directory, second);
        await daemon.SignalAsync("HUP");
        await daemon.WaitForStderrAsync("certificate reloaded (SIGHUP)").WaitAsync(Bound);

        Assert.Equal(second.Leaf.Thumbprint, await PresentedThumbprintAsync(tunnelPort));
        await daemon.TerminateAsync();
        Assert.Equal(0, await daemon.WaitForExitAsync(Bound));
    }

    [Fact]
    public async Task Sighup_WithoutCertificateFiles_DoesNotStopTheServer()
    {
        await using var daemon = DaemonProcess.Start("-b", "127.0.0.1:0", "-c", "127.0.0.1:0");
        await daemon.Ports.WaitAsync(Bound);

        await daemon.SignalAsync("HUP");
        await daemon.WaitForStderrAsync("SIGHUP: no -cert/-key files to reload").WaitAsync(Bound);

        await daemon.TerminateAsync();
        Assert.Equal(0, await daemon.WaitForExitAsync(Bound));
    }

    // Each file is written aside and renamed over the old one, as certbot's symlink switch and `install` are atomic.
    private static void ReplacePair(TemporaryDirectory directory, TestCertificateChain chain)
    {
        string cert = directory.Write("staged-cert.pem", TestCertificates.ExportChainPem(chain.Leaf, chain.Intermediate));
        string key = directory.Write("staged-key.pem", TestCertificates.ExportKeyPem(chain.Leaf, TestKeyFormat.Pkcs8Ec));
        File.Move(cert, directory.File("cert.pem"), overwrite: true);
        File.Move(key, directory.File("key.pem"), overwrite: true);
    }

    private static async Task<string> PresentedThumbprintAsync(int port)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port).WaitAsync(Bound);
        X509Certificate2? presented = null;
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, certificate, _, _) =>
        {
            presented = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return true;
        });
        await tls.AuthenticateAsClientAsync(TestCertificates.DefaultDnsName).WaitAsync(Bound);
        Assert.NotNull(presented);
        return presented.Thumbprint;
    }

    private static async Task<ClientWebSocket> ConnectTlsTunnelAsync(int port, string path)
    {
        var client = new ClientWebSocket();
        client.Options.AddSubProtocol("smux_off");
        client.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        await client.ConnectAsync(new Uri($"wss://127.0.0.1:{port}{path}"), CancellationToken.None).WaitAsync(Bound);
        return client;
    }
}
