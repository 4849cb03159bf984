using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Mtt.Core.Listening;
using Mtt.Tests.Support;

namespace Mtt.Tests.Listening;

public sealed class CertificateLoaderTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData(TestKeyFormat.Pkcs8Ec)]
    [InlineData(TestKeyFormat.Pkcs8Rsa)]
    [InlineData(TestKeyFormat.Pkcs1Rsa)]
    [InlineData(TestKeyFormat.Sec1Ec)]
    public async Task EachKeyFormat_LoadsAndCompletesAHandshakeThatChainsToTheRoot(TestKeyFormat format)
    {
        using var chain = TestCertificates.CreateChain(rsaLeaf: TestCertificates.IsRsa(format));
        var files = TestCertificates.WriteFiles(_directory.Path, chain, format);

        var context = CertificateLoader.Load(files.CertPath, files.KeyPath);
        var peer = await CertificateHandshake.RunAsync(context, TestCertificates.DefaultDnsName,
            view => CertificateHandshake.TrustsRootAndName(view, chain.Root, TestCertificates.DefaultDnsName));

        Assert.Equal(chain.Leaf.Thumbprint, peer.Leaf.Thumbprint);
        Assert.Contains(peer.Sent.Cast<X509Certificate2>(), sent => sent.Thumbprint == chain.Intermediate.Thumbprint);
        Assert.Equal(3, peer.BuiltChainLength); // leaf, intermediate from the server, root from the client's store
    }

    [Fact]
    public async Task CertificateFileWithoutTheIntermediate_ClientCannotBuildTheChain()
    {
        // The counterpart of the test above: the client gets the intermediate from the server and nowhere else.
        using var chain = TestCertificates.CreateChain();
        var files = TestCertificates.WriteFiles(_directory.Path, chain, TestKeyFormat.Sec1Ec, includeIntermediate: false);

        var context = CertificateLoader.Load(files.CertPath, files.KeyPath);

        await Assert.ThrowsAsync<AuthenticationException>(() => CertificateHandshake.RunAsync(context, TestCertificates.DefaultDnsName,
            view => CertificateHandshake.TrustsRootAndName(view, chain.Root, TestCertificates.DefaultDnsName)));
    }

    [Fact]
    public async Task WrongTargetName_ClientRefuses()
    {
        using var chain = TestCertificates.CreateChain();
        var files = TestCertificates.WriteFiles(_directory.Path, chain, TestKeyFormat.Pkcs8Ec);

        var context = CertificateLoader.Load(files.CertPath, files.KeyPath);

        await Assert.ThrowsAsync<AuthenticationException>(() => CertificateHandshake.RunAsync(context, "other.test",
            view => CertificateHandshake.TrustsRootAndName(view, chain.Root, "other.test")));
    }

    [Fact]
    public void KeyInsideTheCertificateFile_IsIgnoredThere()
    {
        using var chain = TestCertificates.CreateChain();
        var files = TestCertificates.WriteFiles(_directory.Path, chain, TestKeyFormat.Pkcs8Ec);
        string combined = _directory.Write("combined.pem",
            "subject=CN = mtt.test\n" + TestCertificates.ExportKeyPem(chain.Leaf, TestKeyFormat.Pkcs8Ec) + "\n" + File.ReadAllText(files.CertPath));

        var context = CertificateLoader.Load(combined, files.KeyPath);

        Assert.Equal(chain.Leaf.Thumbprint, context.TargetCertificate.Thumbprint);
        Assert.True(context.TargetCertificate.HasPrivateKey);
    }

    [Fact]
    public void MissingCertificateFile_NamesTheFile()
    {
        using var chain = TestCertificates.CreateChain();
        var files = TestCertificates.WriteFiles(_directory.Path, chain, TestKeyFormat.Pkcs8Ec);
        string missing = _directory.File("absent.pem");

        var error = Assert.Throws<CertificateLoadException>(() => CertificateLoader.Load(missing, files.KeyPath));

        Assert.Equal($"cannot read {missing}: file not found", error.Message);
    }

    [Fact]
    public void MissingKeyFile_NamesTheFile()
    {
        using var chain = TestCertificates.CreateChain();
        var files = TestCertificates.WriteFiles(_directory.Path, chain, TestKeyFormat.Pkcs8Ec);
        string missing = Path.Combine(_directory.Path, "no-such-dir", "key.pem");

        var error = Assert.Throws<CertificateLoadException>(() => CertificateLoader.Load(files.CertPath, missing));

        Assert.Equal($"cannot read {missing}: file not found", error.Message);
    }

    [Fact]
    public void GarbageCertificateFile_SaysNoCertificateFound()
    {
        using var chain = TestCertificates.CreateChain();
        var files = TestCertificates.WriteFiles(_directory.Path, chain, TestKeyFormat.Pkcs8Ec);
        string garbage = _directory.Write("garbage.pem", "this is not a certificate\n\x01\x02\x03");

        var error = Assert.Throws<CertificateLoadException>(() => CertificateLoader.Load(garbage, files.KeyPath));

        Assert.StartsWith($"no certificate found in {garbage}", error.Message);
    }

    [Fact]
    public void DamagedCertificateBlock_NamesTheFile()
    {
        using var chain = TestCertificates.CreateChain();
        var files = TestCertificates.WriteFiles(_directory.Path, chain, TestKeyFormat.Pkcs8Ec);
        string damaged = _directory.Write("damaged.pem", "-----BEGIN CERTIFICATE-----\nnot*base64!\n-----END CERTIFICATE-----\n");

        var error = Assert.Throws<CertificateLoadException>(() => CertificateLoader.Load(damaged, files.KeyPath));

        Assert.Contains(damaged, error.Message);
        Assert.Contains("damaged", error.Message);
    }

    [Fact]
    public void CertificateBlockThatIsNotX509_NamesTheFile()
    {
        using var chain = TestCertificates.CreateChain();
        var files = TestCertificates.WriteFiles(_directory.Path, chain, TestKeyFormat.Pkcs8Ec);
        string notDer = _directory.Write("notder.pem", "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n");

        var error = Assert.Throws<CertificateLoadException>(() => CertificateLoader.Load(notDer, files.KeyPath));

        Assert.StartsWith($"certificate #1 in {notDer} is not a valid X.509 certificate", error.Message);
    }

    [Fact]
    public void GarbageKeyFile_SaysNoKeyFound()
    {
        using var chain = TestCertificates.CreateChain();
        var files = TestCertificates.WriteFiles(_directory.Path, chain, TestKeyFormat.Pkcs8Ec);
        string garbage = _directory.Write("garbage-key.pem", "ssh-ed25519 AAAA not a pem key");

        var error = Assert.Throws<CertificateLoadException>(() => CertificateLoader.Load(files.CertPath, garbage));

        Assert.StartsWith($"no private key found in {garbage}", error.Message);
    }

    [Fact]
    public void KeyBlockThatIsNotAKey_NamesTheFile()
    {
        using var chain = TestCertificates.CreateChain();
        var files = TestCertificates.WriteFiles(_directory.Path, chain, TestKeyFormat.Pkcs8Ec);
        string bad = _directory.Write("bad-key.pem", "-----BEGIN EC PRIVATE KEY-----\naGVsbG8gd29ybGQ=\n-----END EC PRIVATE KEY-----\n");

        var error = Assert.Throws<CertificateLoadException>(() => CertificateLoader.Load(files.CertPath, bad));

        Assert.StartsWith($"cannot read the key in {bad}: not a valid SEC1 EC private key", error.Message);
    }

    [Theory]
    [InlineData(TestKeyFormat.Sec1Ec, false)]
    [InlineData(TestKeyFormat.Pkcs8Rsa, true)]
    [InlineData(TestKeyFormat.Pkcs1Rsa, false)] // an RSA key for an ECDSA certificate
    public void KeyOfAnotherCertificate_SaysItDoesNotMatch(TestKeyFormat format, bool rsaLeaf)
    {
        using var chain = TestCertificates.CreateChain(rsaLeaf: rsaLeaf);
        using var other = TestCertificates.CreateChain(rsaLeaf: TestCertificates.IsRsa(format));
        var files = TestCertificates.WriteFiles(_directory.Path, chain, rsaLeaf ? TestKeyFormat.Pkcs8Rsa : TestKeyFormat.Pkcs8Ec);
        string otherKey = _directory.Write("other-key.pem", TestCertificates.ExportKeyPem(other.Leaf, format));

        var error = Assert.Throws<CertificateLoadException>(() => CertificateLoader.Load(files.CertPath, otherKey));

        Assert.Equal($"key {otherKey} does not match certificate {files.CertPath}", error.Message);
    }

    [Fact]
    public void ChainWrittenIntermediateFirst_SaysTheLeafMustComeFirst()
    {
        using var chain = TestCertificates.CreateChain();
        var files = TestCertificates.WriteFiles(_directory.Path, chain, TestKeyFormat.Sec1Ec);
        string reversed = _directory.Write("reversed.pem", TestCertificates.ExportChainPem(chain.Intermediate, chain.Leaf));

        var error = Assert.Throws<CertificateLoadException>(() => CertificateLoader.Load(reversed, files.KeyPath));

        Assert.StartsWith($"key {files.KeyPath} matches certificate #2 in {reversed}, not the first", error.Message);
    }

    [Fact]
    public void EncryptedPkcs8Key_IsRefusedNamingTheFile()
    {
        using var chain = TestCertificates.CreateChain();
        var files = TestCertificates.WriteFiles(_directory.Path, chain, TestKeyFormat.EncryptedPkcs8);

        var error = Assert.Throws<CertificateLoadException>(() => CertificateLoader.Load(files.CertPath, files.KeyPath));

        Assert.StartsWith($"key {files.KeyPath} is encrypted", error.Message);
    }

    [Fact]
    public void LegacyOpenSslEncryptedKey_IsRefusedNamingTheFile()
    {
        using var chain = TestCertificates.CreateChain(rsaLeaf: true);
        var files = TestCertificates.WriteFiles(_directory.Path, chain, TestKeyFormat.Pkcs1Rsa);
        // The shape "openssl genrsa -aes128" writes: RFC 1421 headers inside the block.
        string legacy = _directory.Write("legacy-key.pem",
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0123456789ABCDEF0123456789ABCDEF\n\n"
            + "aGVsbG8gd29ybGQ=\n-----END RSA PRIVATE KEY-----\n");

        var error = Assert.Throws<CertificateLoadException>(() => CertificateLoader.Load(files.CertPath, legacy));

        Assert.StartsWith($"key {legacy} is encrypted", error.Message);
    }

    [Fact]
    public void OversizedFile_IsRefusedBeforeItIsRead()
    {
        using var chain = TestCertificates.CreateChain();
        var files = TestCertificates.WriteFiles(_directory.Path, chain, TestKeyFormat.Pkcs8Ec);
        string huge = _directory.File("huge.pem");
        using (var stream = File.Create(huge)) stream.SetLength(PemFile.MaxFileBytes + 1);

        var error = Assert.Throws<CertificateLoadException>(() => CertificateLoader.Load(huge, files.KeyPath));

        Assert.StartsWith($"cannot read {huge}: larger than", error.Message);
    }
}
