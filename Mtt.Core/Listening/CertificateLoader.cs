using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mtt.Core.Listening;

/// <summary>
/// Loads the operator's <c>-cert</c>/<c>-key</c> PEM files (docs/protocol.md §6.2) into a context for
/// <see cref="SslServerAuthenticationOptions.ServerCertificateContext"/>. Problems surface at start, as
/// <see cref="CertificateLoadException"/> naming the file and the reason, never at the first handshake.
/// </summary>
public static class CertificateLoader
{
    private const string CertificateLabel = "CERTIFICATE";
    private const string Pkcs8Label = "PRIVATE KEY";
    private const string Pkcs1RsaLabel = "RSA PRIVATE KEY";
    private const string Sec1EcLabel = "EC PRIVATE KEY";
    private const string EncryptedPkcs8Label = "ENCRYPTED PRIVATE KEY";
    // OpenSSL's legacy encrypted PEM (RFC 1421 headers inside an RSA or EC PRIVATE KEY block).
    private const string LegacyEncryptedHeader = "Proc-Type: 4,ENCRYPTED";
    private const string RsaAlgorithmOid = "1.2.840.113549.1.1.1"; // rsaEncryption, RFC 8017
    private const string EcAlgorithmOid = "1.2.840.10045.2.1"; // id-ecPublicKey, RFC 5480

    /// <summary>
    /// Loads the chain (leaf first, then intermediates) and the key (PKCS#8, PKCS#1 RSA or SEC1 EC; encrypted keys
    /// are refused). The intermediates are sent in the handshake; nothing is fetched (offline: no AIA).
    /// </summary>
    public static SslStreamCertificateContext Load(string certPath, string keyPath)
    {
        ArgumentNullException.ThrowIfNull(certPath);
        ArgumentNullException.ThrowIfNull(keyPath);

        List<X509Certificate2> chain = ReadChain(certPath);
        X509Certificate2? leaf = null;
        try
        {
            using (AsymmetricAlgorithm key = ReadKey(keyPath))
            {
                leaf = AttachKey(chain, key, certPath, keyPath);
            }
            var intermediates = new X509Certificate2Collection();
            for (int i = 1; i < chain.Count; i++) intermediates.Add(chain[i]);
            var context = CreateContext(leaf, intermediates);
            chain[0].Dispose(); // the context holds the copy that carries the key
            return context;
        }
        catch
        {
            leaf?.Dispose();
            foreach (var certificate in chain) certificate.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Builds the context the handshakes send. Building the chain opens .NET's per-user certificate stores, which
    /// live under $HOME: a process whose user has no home (systemd's DynamicUser without HOME set) cannot, and
    /// that is an operator's setting to fix, not a crash.
    /// </summary>
    internal static SslStreamCertificateContext CreateContext(X509Certificate2 leaf, X509Certificate2Collection? intermediates)
    {
        try
        {
            return SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
        }
        catch (InvalidOperationException e)
        {
            throw new CertificateLoadException(
                $"cannot build the certificate chain: {e.Message} (.NET keeps its certificate stores under $HOME: give the service a HOME, e.g. Environment=HOME=%S/mtt-mu-server in the systemd unit)", e);
        }
    }

    private static List<X509Certificate2> ReadChain(string path)
    {
        string text = PemFile.ReadText(path);
        var chain = new List<X509Certificate2>();
        foreach (var block in PemFile.ReadBlocks(text))
        {
            if (block.Label != CertificateLabel) continue; // a combined file may hold the key as well
            try
            {
                chain.Add(X509CertificateLoader.LoadCertificate(block.Data));
            }
            catch (CryptographicException e)
            {
                foreach (var certificate in chain) certificate.Dispose();
                throw new CertificateLoadException($"certificate #{chain.Count + 1} in {path} is not a valid X.509 certificate: {e.Message}", e);
            }
        }

        if (PemFile.CountBeginLines(text, CertificateLabel) > chain.Count)
        {
            foreach (var certificate in chain) certificate.Dispose();
            throw new CertificateLoadException($"a CERTIFICATE block in {path} is damaged (bad base64 or no END line)");
        }
        if (chain.Count == 0)
            throw new CertificateLoadException($"no certificate found in {path}: want PEM '-----BEGIN CERTIFICATE-----' blocks, leaf first");
        return chain;
    }

    private static AsymmetricAlgorithm ReadKey(string path)
    {
        string text = PemFile.ReadText(path);
        if (text.Contains(LegacyEncryptedHeader, StringComparison.Ordinal))
            throw Encrypted(path);

        foreach (var block in PemFile.ReadBlocks(text))
        {
            try
            {
                switch (block.Label)
                {
                    case EncryptedPkcs8Label:
                        throw Encrypted(path);
                    case Pkcs8Label:
                        return ImportPkcs8(block.Data, path);
                    case Pkcs1RsaLabel:
                    {
                        var rsa = RSA.Create();
                        return Import(rsa, () => rsa.ImportRSAPrivateKey(block.Data, out _), path, "PKCS#1 RSA");
                    }
                    case Sec1EcLabel:
                    {
                        var ec = ECDsa.Create();
                        return Import(ec, () => ec.ImportECPrivateKey(block.Data, out _), path, "SEC1 EC");
                    }
                }
            }
            finally
            {
                CryptographicOperations.ZeroMemory(block.Data);
            }
        }
        throw new CertificateLoadException(
            $"no private key found in {path}: want a PEM 'PRIVATE KEY', 'RSA PRIVATE KEY' or 'EC PRIVATE KEY' block");
    }

    // PKCS#8 names its algorithm inside; trying the two that TLS servers use is simpler than decoding the ASN.1.
    private static AsymmetricAlgorithm ImportPkcs8(byte[] data, string path)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportPkcs8PrivateKey(data, out _);
            return rsa;
        }
        catch (CryptographicException)
        {
            rsa.Dispose();
        }
        var ec = ECDsa.Create();
        return Import(ec, () => ec.ImportPkcs8PrivateKey(data, out _), path, "PKCS#8 (RSA or ECDSA)");
    }

    private static AsymmetricAlgorithm Import(AsymmetricAlgorithm key, Action import, string path, string format)
    {
        try
        {
            import();
            return key;
        }
        catch (CryptographicException e)
        {
            key.Dispose();
            throw new CertificateLoadException($"cannot read the key in {path}: not a valid {format} private key ({e.Message})", e);
        }
    }

    private static X509Certificate2 AttachKey(List<X509Certificate2> chain, AsymmetricAlgorithm key, string certPath, string keyPath)
    {
        X509Certificate2 leaf = chain[0];
        string? certificateAlgorithm = leaf.PublicKey.Oid.Value;
        try
        {
            X509Certificate2 withKey = key switch
            {
                RSA rsa when certificateAlgorithm == RsaAlgorithmOid => leaf.CopyWithPrivateKey(rsa),
                ECDsa ec when certificateAlgorithm == EcAlgorithmOid => leaf.CopyWithPrivateKey(ec),
                _ => throw new ArgumentException("the key's algorithm differs from the certificate's"),
            };
            return UsableBySslStream(withKey);
        }
        catch (ArgumentException e)
        {
            // A chain written root first is a common slip; say so instead of only "does not match".
            byte[] keyInfo = key.ExportSubjectPublicKeyInfo();
            for (int i = 1; i < chain.Count; i++)
            {
                if (chain[i].PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(keyInfo))
                    throw new CertificateLoadException(
                        $"key {keyPath} matches certificate #{i + 1} in {certPath}, not the first: put the server's own certificate first, then its chain", e);
            }
            throw new CertificateLoadException($"key {keyPath} does not match certificate {certPath}", e);
        }
    }

    // SChannel cannot use an ephemeral (never persisted) key; a round trip through PKCS#12 gives it one it can.
    // OpenSSL on Linux and macOS use the key as it is.
    private static X509Certificate2 UsableBySslStream(X509Certificate2 certificate)
    {
        if (!OperatingSystem.IsWindows()) return certificate;
        using (certificate)
        {
            return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
        }
    }

    private static CertificateLoadException Encrypted(string path)
        => new($"key {path} is encrypted and the server cannot ask for a passphrase: decrypt it first (openssl pkey -in {path} -out plain.pem)");
}
