namespace Mtt.Core.Transport.OpenSsl;

/// <summary>
/// Whether the kernel can take over TLS record encryption (kTLS: the <c>tls</c> TCP upper-layer protocol, Linux
/// 4.13+). The engine does not hand records to the kernel yet; a TLS 1.3 connection's records leave OpenSSL for the
/// engine's own record layer instead (<see cref="OpenSslSession.TryHandOff"/>), which has what kTLS would need (the
/// suite, both traffic secrets and sequence numbers) and is where a setsockopt(TLS_TX/TLS_RX) would go. For OpenSSL's own kTLS: OpenSSL enables kTLS only when its BIOs are socket
/// BIOs at the moment the keys are set (SSL_OP_ENABLE_KTLS), while this engine computes the handshake on memory
/// BIOs (to hold a handshake slot only per whole record) and writes through its own BIO into the send buffer
/// (<see cref="SendBio"/>: OpenSSL cannot wait for a full socket to drain). The plan where it exists: switch both
/// BIOs to the socket before the last handshake flight, let SSL_write write the socket directly (a writability wait
/// on WANT_WRITE), and confirm with BIO_get_ktls_send / BIO_get_ktls_recv. This reports what the machine offers, so the operator knows.
/// </summary>
internal static class KernelTls
{
    // The upper-layer protocols TCP has registered: "tls" once the module is loaded (or built in).
    private const string AvailableUlp = "/proc/sys/net/ipv4/tcp_available_ulp";

    /// <summary>True when the <c>tls</c> ULP is registered now.</summary>
    public static bool IsAvailable()
    {
        try
        {
            return File.Exists(AvailableUlp) && File.ReadAllText(AvailableUlp).Split(' ', '\n').Contains("tls");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>One line for the start-up log.</summary>
    public static string Describe() => IsAvailable()
        ? "the kernel has kTLS (tls ULP), which this engine does not use yet: records are protected in user space"
        : "the kernel has no kTLS (no tls ULP registered; modprobe tls where the module exists): records are protected in user space";
}
