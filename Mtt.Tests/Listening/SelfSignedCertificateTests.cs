using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mtt.Core.Listening;

namespace Mtt.Tests.Listening;

public sealed class SelfSignedCertificateTests
{
    private const string ServerName = "tunnel.example.com";
    private const string P256Oid = "1.2.840.10045.3.1.7"; // secp256r1, RFC 5480

    [Fact]
    public async Task Handshake_ClientPinningTheCertificate_SeesTheNameInTheSanAndAnEcdsaP256Key()
    {
        var context = SelfSignedCertificate.CreateContext(ServerName);
        var pinned = X509CertificateLoader.LoadCertificate(context.TargetCertificate.RawData);

        var peer = await CertificateHandshake.RunAsync(context, ServerName, view =>
        {
            using ECDsa? key = view.Leaf.GetECDsaPublicKey();
            bool isP256 = key is not null && key.ExportParameters(false).Curve.Oid.Value == P256Oid;
            return isP256 && CertificateHandshake.TrustsRootAndName(view, pinned, ServerName);
        });

        Assert.Equal(pinned.Thumbprint, peer.Leaf.Thumbprint);
    }

    [Fact]
    public async Task Handshake_ForAnotherName_ClientRefuses()
    {
        var context = SelfSignedCertificate.CreateContext(ServerName);
        var pinned = X509CertificateLoader.LoadCertificate(context.TargetCertificate.RawData);

        await Assert.ThrowsAsync<AuthenticationException>(() => CertificateHandshake.RunAsync(context, "other.example.com",
            view => CertificateHandshake.TrustsRootAndName(view, pinned, "other.example.com")));
    }

    [Fact]
    public void Create_HasThePromisedShape()
    {
        DateTime before = DateTime.UtcNow;
        using var certificate = SelfSignedCertificate.Create(ServerName);

        Assert.True(certificate.HasPrivateKey);
        Assert.Equal("CN=" + ServerName, certificate.Subject);
        Assert.InRange(certificate.NotBefore.ToUniversalTime(), before.AddDays(-1).AddMinutes(-1), before.AddDays(-1).AddMinutes(1));
        Assert.InRange(certificate.NotAfter.ToUniversalTime(), before.AddYears(10).AddMinutes(-1), before.AddYears(10).AddMinutes(1));

        var eku = Assert.Single(certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>());
        Assert.Equal("1.3.6.1.5.5.7.3.1", Assert.Single(eku.EnhancedKeyUsages.Cast<Oid>()).Value);
        var basic = Assert.Single(certificate.Extensions.OfType<X509BasicConstraintsExtension>());
        Assert.False(basic.CertificateAuthority);

        var san = Assert.Single(certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>());
        Assert.Equal([ServerName], san.EnumerateDnsNames());
        Assert.Equal([IPAddress.Loopback, IPAddress.IPv6Loopback], san.EnumerateIPAddresses());
    }

    [Fact]
    public void Create_TwiceGivesDifferentKeysAndSerials()
    {
        using var first = SelfSignedCertificate.Create(ServerName);
        using var second = SelfSignedCertificate.Create(ServerName);

        Assert.NotEqual(first.SerialNumber, second.SerialNumber);
        Assert.NotEqual(first.PublicKey.EncodedKeyValue.RawData, second.PublicKey.EncodedKeyValue.RawData);
    }

    [Fact]
    public void Create_ForAnIpAddress_PutsItInAnIpSan()
    {
        using var certificate = SelfSignedCertificate.Create("192.0.2.7");

        var san = Assert.Single(certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>());
        Assert.Empty(san.EnumerateDnsNames());
        Assert.Equal([IPAddress.Parse("192.0.2.7"), IPAddress.Loopback, IPAddress.IPv6Loopback], san.EnumerateIPAddresses());
    }

    [Theory]
    [InlineData("localhost", true)]
    [InlineData("tunnel.example.com", true)]
    [InlineData("*.example.com", true)]
    [InlineData("under_score.example", true)]
    [InlineData("192.0.2.7", true)]
    [InlineData("2001:db8::1", true)]
    [InlineData("", false)]
    [InlineData("has space", false)]
    [InlineData("-leading.example", false)]
    [InlineData("double..dot", false)]
    [InlineData("example.com:443", false)]
    [InlineData("ex*ample.com", false)]
    public void IsValidServerName_AcceptsDnsNamesAndIpLiterals(string name, bool valid)
    {
        Assert.Equal(valid, SelfSignedCertificate.IsValidServerName(name));
    }

    [Fact]
    public void Create_WithAnInvalidName_Throws()
    {
        Assert.Throws<ArgumentException>(() => SelfSignedCertificate.Create("not a name"));
    }
}
