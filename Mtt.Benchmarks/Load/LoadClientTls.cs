using System.Net.Security;

namespace Mtt.Benchmarks.Load;

/// <summary>The TLS client side of every harness connection, tunnel or floor alike, so both pay the same handshake.</summary>
internal static class LoadClientTls
{
    /// <summary>
    /// Any certificate is accepted: the server's and the floor's are self-signed and made at their start.
    /// No session resumption: mtt-client (Go's crypto/tls without a ClientSessionCache) makes a full
    /// handshake on every connection, and connection churn is meant to cost what the field's clients cost.
    /// </summary>
    public static readonly SslClientAuthenticationOptions Options = new()
    {
        TargetHost = "localhost",
        RemoteCertificateValidationCallback = static (_, _, _, _) => true,
        AllowTlsResume = false,
    };
}
