namespace Mtt.Core.Transport;

/// <summary><c>-tls-engine</c>: which library computes TLS on the tunnel listener.</summary>
public enum TlsEngine
{
    /// <summary>.NET's SslStream (which itself calls OpenSSL on Linux), through its async stream machinery.</summary>
    SslStream,

    /// <summary>libssl called directly, driven by the socket's readiness (<see cref="OpenSsl.OpenSslStream"/>).</summary>
    OpenSsl,
}
