using System.Net.Security;
using Mtt.Core.Diagnostics;
using Mtt.Core.Listening;
using Mtt.Tests.Support;

namespace Mtt.Tests.Listening;

/// <summary>Reloading the -cert/-key pair into the holder that handshakes read.</summary>
public sealed class CertificateReloaderTests
{
    [Fact]
    public void Reload_OfANewPair_ReplacesTheCurrentCertificate()
    {
        using var directory = new TemporaryDirectory();
        using var first = TestCertificates.CreateChain();
        using var second = TestCertificates.CreateChain(rsaLeaf: true);
        var files = TestCertificates.WriteFiles(directory.Path, first, TestKeyFormat.Sec1Ec);
        var holder = new ServerCertificate(CertificateLoader.Load(files.CertPath, files.KeyPath));
        var log = new StringWriter();
        using var reloader = new CertificateReloader(files.CertPath, files.KeyPath, holder, new ServerLog(log, verbose: false));

        TestCertificates.WriteFiles(directory.Path, second, TestKeyFormat.Pkcs8Rsa);

        Assert.True(reloader.Reload("test"));
        Assert.Equal(second.Leaf.Thumbprint, holder.Current.TargetCertificate.Thumbprint);
        Assert.Contains("certificate reloaded (test): CN=", log.ToString());
    }

    [Fact]
    public void Reload_OfAPairThatDoesNotMatch_KeepsTheCurrentCertificate_AndLogsWhy()
    {
        using var directory = new TemporaryDirectory();
        using var first = TestCertificates.CreateChain();
        using var second = TestCertificates.CreateChain();
        var files = TestCertificates.WriteFiles(directory.Path, first, TestKeyFormat.Pkcs8Ec);
        SslStreamCertificateContext loaded = CertificateLoader.Load(files.CertPath, files.KeyPath);
        var holder = new ServerCertificate(loaded);
        var log = new StringWriter();
        using var reloader = new CertificateReloader(files.CertPath, files.KeyPath, holder, new ServerLog(log, verbose: false));

        File.WriteAllText(files.CertPath, TestCertificates.ExportChainPem(second.Leaf, second.Intermediate));

        Assert.False(reloader.Reload("test"));
        Assert.Same(loaded, holder.Current);
        Assert.Contains("certificate reload (test) failed, keeping the current certificate: ", log.ToString());
        Assert.Contains("does not match", log.ToString());
    }

    [Fact]
    public void Reload_OfAMissingFile_KeepsTheCurrentCertificate()
    {
        using var directory = new TemporaryDirectory();
        using var first = TestCertificates.CreateChain();
        var files = TestCertificates.WriteFiles(directory.Path, first, TestKeyFormat.Pkcs8Ec);
        SslStreamCertificateContext loaded = CertificateLoader.Load(files.CertPath, files.KeyPath);
        var holder = new ServerCertificate(loaded);
        using var reloader = new CertificateReloader(files.CertPath, files.KeyPath, holder, ServerLog.Silent);

        File.Delete(files.KeyPath);

        Assert.False(reloader.Reload("test"));
        Assert.Same(loaded, holder.Current);
    }
}
