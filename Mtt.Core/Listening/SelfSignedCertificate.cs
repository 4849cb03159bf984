using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mtt.Core.Listening;

/// <summary>
/// The certificate of <c>-force-tls</c> (docs/protocol.md §6.2): made in memory at start, never written to disk.
/// ECDSA P-256, the server name as its subject alternative name, valid for years; clients either verify nothing
/// (<c>-sv</c>) or pin the name with <c>-n</c>.
/// </summary>
public static class SelfSignedCertificate
{
    // Long enough that no operator meets an expiry; the process makes a fresh one at every start anyway.
    public const int ValidityYears = 10;

    // Tolerates a client clock that is behind, as the original's certificates did.
    public static readonly TimeSpan BackdateBy = TimeSpan.FromDays(1);

    // The longest DNS name (RFC 1035 section 2.3.4) and label, and the longest CN (RFC 5280 appendix A, ub-common-name).
    private const int MaxDnsNameLength = 253;
    private const int MaxDnsLabelLength = 63;
    private const int MaxCommonNameLength = 64;

    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1"; // id-kp-serverAuth, RFC 5280 section 4.2.1.12
    private const string FallbackCommonName = "mtt-mu-server";

    /// <summary>
    /// True for a name the certificate can carry: a DNS name (letters, digits, '-', '_', an optional leading
    /// <c>*.</c>) or an IPv4/IPv6 literal, which goes in as an IP address instead.
    /// </summary>
    public static bool IsValidServerName(string? name)
    {
        if (string.IsNullOrEmpty(name)) return false;
        if (TryParseIpLiteral(name, out _)) return true;
        if (name.StartsWith("*.", StringComparison.Ordinal)) name = name.Substring(2);
        if (name.Length is 0 or > MaxDnsNameLength) return false;
        foreach (string label in name.Split('.'))
        {
            if (label.Length is 0 or > MaxDnsLabelLength || label[0] == '-' || label[^1] == '-') return false;
            foreach (char c in label)
                if (!(c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '_')) return false;
        }
        return true;
    }

    /// <summary>
    /// A new certificate with its private key: SAN = <paramref name="dnsName"/> plus 127.0.0.1 and ::1, valid from a
    /// day ago for <see cref="ValidityYears"/> years, serverAuth only.
    /// </summary>
    public static X509Certificate2 Create(string dnsName)
    {
        if (!IsValidServerName(dnsName))
            throw new ArgumentException($"'{dnsName}' is not a DNS name or IP address", nameof(dnsName));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(dnsName.Length <= MaxCommonNameLength ? dnsName : FallbackCommonName);
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);

        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuthOid)], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(BuildSubjectAlternativeName(dnsName));

        DateTimeOffset now = DateTimeOffset.UtcNow;
        X509Certificate2 certificate = request.CreateSelfSigned(now - BackdateBy, now.AddYears(ValidityYears));
        if (!OperatingSystem.IsWindows()) return certificate;

        // SChannel cannot use an ephemeral key; a PKCS#12 round trip gives it one it can.
        using (certificate)
        {
            return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
        }
    }

    /// <summary>A context for <see cref="SslServerAuthenticationOptions.ServerCertificateContext"/> around <see cref="Create"/>.</summary>
    public static SslStreamCertificateContext CreateContext(string dnsName)
        => CertificateLoader.CreateContext(Create(dnsName), intermediates: null);

    private static X509Extension BuildSubjectAlternativeName(string name)
    {
        var san = new SubjectAlternativeNameBuilder();
        bool isIp = TryParseIpLiteral(name, out var ip);
        if (isIp) san.AddIpAddress(ip!);
        else san.AddDnsName(name);
        // Loopback too, so a local health check or test can connect by address.
        if (!isIp || !ip!.Equals(IPAddress.Loopback)) san.AddIpAddress(IPAddress.Loopback);
        if (!isIp || !ip!.Equals(IPAddress.IPv6Loopback)) san.AddIpAddress(IPAddress.IPv6Loopback);
        return san.Build();
    }

    // Strict literals only: IPAddress.TryParse also takes "1" or "0x7f.1", which are names here, as in Go's net.ParseIP.
    private static bool TryParseIpLiteral(string name, out IPAddress? address)
    {
        if (IPAddress.TryParse(name, out address)
            && ((address.AddressFamily == AddressFamily.InterNetwork && address.ToString() == name)
                || (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId == 0 && !name.Contains('%'))))
            return true;
        address = null;
        return false;
    }
}
