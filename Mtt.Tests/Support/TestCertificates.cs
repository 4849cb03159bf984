using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Mtt.Tests.Support;

/// <summary>
/// Certificates made in memory for tests: a root CA, an intermediate, a server leaf, and their PEM files.
/// Nothing is added to any system store; clients trust the root through a custom trust store.
/// </summary>
public static class TestCertificates
{
    public const string DefaultDnsName = "mtt.test";
    public const string EncryptedKeyPassword = "mtt-test-password";

    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    private const int RsaKeyBits = 2048;
    private static readonly TimeSpan Backdate = TimeSpan.FromHours(1);
    private static readonly TimeSpan Lifetime = TimeSpan.FromDays(30);

    /// <summary>A self-signed root CA with an ECDSA P-256 key.</summary>
    public static X509Certificate2 CreateRoot(string commonName = "Mtt Test Root CA")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        AddCaExtensions(request);
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now - Backdate, now + Lifetime);
    }

    /// <summary>An intermediate CA (ECDSA P-256) signed by <paramref name="issuer"/>, with its private key.</summary>
    public static X509Certificate2 CreateIntermediate(X509Certificate2 issuer, string commonName = "Mtt Test Intermediate CA")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        AddCaExtensions(request);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        using var certificate = Sign(request, issuer);
        return certificate.CopyWithPrivateKey(key);
    }

    /// <summary>A server leaf for <paramref name="dnsName"/> signed by <paramref name="issuer"/>; RSA 2048 or ECDSA P-256.</summary>
    public static X509Certificate2 CreateLeaf(X509Certificate2 issuer, string dnsName = DefaultDnsName, bool rsa = false)
    {
        var subject = $"CN={dnsName}";
        using AsymmetricAlgorithm key = rsa ? RSA.Create(RsaKeyBits) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = key is RSA rsaKey
            ? new CertificateRequest(subject, rsaKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest(subject, (ECDsa)key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        var usage = X509KeyUsageFlags.DigitalSignature | (rsa ? X509KeyUsageFlags.KeyEncipherment : 0);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(usage, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuthOid)], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(dnsName);
        request.CertificateExtensions.Add(san.Build());

        using var certificate = Sign(request, issuer);
        return key is RSA r ? certificate.CopyWithPrivateKey(r) : certificate.CopyWithPrivateKey((ECDsa)key);
    }

    /// <summary>Root, intermediate and leaf; the leaf's key is RSA when <paramref name="rsaLeaf"/>.</summary>
    public static TestCertificateChain CreateChain(string dnsName = DefaultDnsName, bool rsaLeaf = false)
    {
        var root = CreateRoot();
        var intermediate = CreateIntermediate(root);
        var leaf = CreateLeaf(intermediate, dnsName, rsaLeaf);
        return new TestCertificateChain(root, intermediate, leaf);
    }

    /// <summary>True when <paramref name="format"/> holds an RSA key, so the leaf must be RSA too.</summary>
    public static bool IsRsa(TestKeyFormat format) => format is TestKeyFormat.Pkcs8Rsa or TestKeyFormat.Pkcs1Rsa;

    /// <summary>The private key of <paramref name="certificate"/> as PEM in <paramref name="format"/>.</summary>
    public static string ExportKeyPem(X509Certificate2 certificate, TestKeyFormat format)
    {
        using RSA? rsa = certificate.GetRSAPrivateKey();
        using ECDsa? ec = certificate.GetECDsaPrivateKey();
        return format switch
        {
            TestKeyFormat.Pkcs8Rsa => Require(rsa).ExportPkcs8PrivateKeyPem(),
            TestKeyFormat.Pkcs1Rsa => Require(rsa).ExportRSAPrivateKeyPem(),
            TestKeyFormat.Pkcs8Ec => Require(ec).ExportPkcs8PrivateKeyPem(),
            TestKeyFormat.Sec1Ec => Require(ec).ExportECPrivateKeyPem(),
            TestKeyFormat.EncryptedPkcs8 => ((AsymmetricAlgorithm?)ec ?? Require(rsa)).ExportEncryptedPkcs8PrivateKeyPem(
                EncryptedKeyPassword, new PbeParameters(PbeEncryptionAlgorithm.Aes128Cbc, HashAlgorithmName.SHA256, 1000)),
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
    }

    /// <summary>The certificates as consecutive PEM blocks, in the order given.</summary>
    public static string ExportChainPem(params X509Certificate2[] certificates)
    {
        var text = new StringBuilder();
        foreach (var certificate in certificates) text.Append(certificate.ExportCertificatePem()).Append('\n');
        return text.ToString();
    }

    /// <summary>
    /// Writes cert.pem (leaf, then the intermediate unless <paramref name="includeIntermediate"/> is false),
    /// key.pem (the leaf's key in <paramref name="format"/>) and root.pem into <paramref name="directory"/>.
    /// </summary>
    public static TestCertificateFiles WriteFiles(string directory, TestCertificateChain chain, TestKeyFormat format, bool includeIntermediate = true)
    {
        string certPath = Path.Combine(directory, "cert.pem");
        string keyPath = Path.Combine(directory, "key.pem");
        string rootPath = Path.Combine(directory, "root.pem");
        File.WriteAllText(certPath, includeIntermediate ? ExportChainPem(chain.Leaf, chain.Intermediate) : ExportChainPem(chain.Leaf));
        File.WriteAllText(keyPath, ExportKeyPem(chain.Leaf, format));
        File.WriteAllText(rootPath, ExportChainPem(chain.Root));
        return new TestCertificateFiles(certPath, keyPath, rootPath);
    }

    private static void AddCaExtensions(CertificateRequest request)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
    }

    private static X509Certificate2 Sign(CertificateRequest request, X509Certificate2 issuer)
    {
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive INTEGER (RFC 5280 section 4.1.2.2)
        var now = DateTimeOffset.UtcNow;
        // A child may not outlive its issuer (CertificateRequest.Create refuses it).
        var issuerEnd = new DateTimeOffset(issuer.NotAfter);
        var notAfter = issuerEnd < now + Lifetime ? issuerEnd : now + Lifetime;
        // The generator form lets an ECDSA CA sign an RSA leaf; CertificateRequest.Create(issuer, ...) insists they agree.
        using ECDsa issuerKey = issuer.GetECDsaPrivateKey() ?? throw new ArgumentException("the issuer needs its ECDSA private key");
        return request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey), now - Backdate, notAfter, serial);
    }

    private static T Require<T>(T? key) where T : class
        => key ?? throw new ArgumentException($"the certificate has no {typeof(T).Name} private key");
}
