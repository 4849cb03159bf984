namespace Mtt.Core.Listening;

/// <summary>
/// The certificate or key files cannot be used. The message names the file and the reason, ready for an
/// operator to read at start ("cannot read /etc/mtt/key.pem: permission denied").
/// </summary>
public sealed class CertificateLoadException : Exception
{
    public CertificateLoadException(string message) : base(message)
    {
    }

    public CertificateLoadException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
