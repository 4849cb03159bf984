using System.Net.Security;

namespace Mtt.Core.Listening;

/// <summary>
/// The certificate the tunnel listener presents, replaceable while it runs: each TLS handshake reads
/// <see cref="Current"/> once, so a reload reaches new handshakes and never touches an established tunnel.
/// </summary>
public sealed class ServerCertificate
{
    private volatile SslStreamCertificateContext _current;

    public ServerCertificate(SslStreamCertificateContext initial)
    {
        ArgumentNullException.ThrowIfNull(initial);
        _current = initial;
    }

    /// <summary>The certificate for the next handshake.</summary>
    public SslStreamCertificateContext Current => _current;

    /// <summary>Hands <paramref name="next"/> to every handshake from now on.</summary>
    public void Replace(SslStreamCertificateContext next)
    {
        ArgumentNullException.ThrowIfNull(next);
        _current = next;
    }
}
