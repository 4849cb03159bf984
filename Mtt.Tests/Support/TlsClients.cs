using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Mtt.Tests.Support;

/// <summary>TLS options of a test client that trusts exactly the server's generated certificate.</summary>
public static class TlsClients
{
    public static SslClientAuthenticationOptions Pinned(X509Certificate2 certificate, SslProtocols protocols = SslProtocols.None,
        List<SslApplicationProtocol>? alpn = null) => new()
    {
        TargetHost = "localhost",
        EnabledSslProtocols = protocols,
        ApplicationProtocols = alpn,
        RemoteCertificateValidationCallback = (_, presented, _, _) =>
            presented is not null && presented.GetRawCertData().AsSpan().SequenceEqual(certificate.RawData),
    };
}
