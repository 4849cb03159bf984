using System.Net.Security;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>What the daemon checks before it starts with <c>-tls-engine openssl</c>.</summary>
public static partial class OpenSslEngine
{
    /// <summary>
    /// Loads libssl and makes the context for <paramref name="certificate"/> now, so that a missing library or a key
    /// OpenSSL refuses stops the start instead of failing every handshake; <paramref name="description"/> is the line
    /// to log (the library's version and kTLS), or why it cannot run.
    /// </summary>
    public static bool TryPrepare(SslStreamCertificateContext certificate, out string description) =>
        TryPrepare(certificate, Library, out description);

    /// <summary>The library every call of the engine binds to (its LibraryImports name it; so does libcrypto's 3).</summary>
    public const string Library = "libssl.so.3";

    /// <summary>
    /// As <see cref="TryPrepare(SslStreamCertificateContext, out string)"/>, after checking that <paramref name="library"/>
    /// loads: the daemon's tests name a library that is not there, as on a host with only libssl 1.1.
    /// </summary>
    public static bool TryPrepare(SslStreamCertificateContext certificate, string library, out string description)
    {
        if (!NativeLibrary.TryLoad(library, out IntPtr handle))
        {
            description = $"-tls-engine openssl cannot run: {library} is not installed";
            return false;
        }
        NativeLibrary.Free(handle);
        try
        {
            OpenSslContext.For(certificate);
            description = $"TLS engine: {Marshal.PtrToStringUTF8(Version(0))} called directly; {KernelTls.Describe()}";
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or CryptographicException)
        {
            description = $"-tls-engine openssl cannot run: {e.Message}";
            return false;
        }
    }

    [LibraryImport(LibCrypto.Library, EntryPoint = "OpenSSL_version")]
    private static partial IntPtr Version(int type);
}
