using System.Net.Security;
using System.Runtime.InteropServices;

namespace Mtt.Core.Transport;

/// <summary>
/// Gives back the record buffers OpenSSL keeps in every connection (a read and a write buffer of
/// about 17 KiB each, allocated by the handshake and held for the connection's life, since .NET does
/// not set SSL_MODE_RELEASE_BUFFERS): most of what an idle TLS tunnel costs. <c>SSL_free_buffers</c>
/// frees them only when no record is pending, and OpenSSL allocates them again at the next record, so
/// a tunnel that carries data pays one allocation then and no per-record churn.
/// </summary>
internal static partial class OpenSslRecordBuffers
{
    private const string LibSsl = "libssl.so.3";

    /// <summary>
    /// Frees <paramref name="ssl"/>'s record buffers. Call only while no read or write is in progress
    /// on it (OpenSSL's SSL object is not thread-safe); returns whether anything was freed.
    /// </summary>
    public static bool TryRelease(SslStream ssl) => SslStreamNative.TryWithSsl(ssl, static handle => FreeBuffers(handle) == 1);

    [LibraryImport(LibSsl, EntryPoint = "SSL_free_buffers")]
    private static partial int FreeBuffers(IntPtr ssl);
}
