using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Mtt.Core.Transport;

/// <summary>
/// Gives back the record buffers OpenSSL keeps in every connection (a read and a write buffer of
/// about 17 KiB each, allocated by the handshake and held for the connection's life, since .NET does
/// not set SSL_MODE_RELEASE_BUFFERS): most of what an idle TLS tunnel costs. <c>SSL_free_buffers</c>
/// frees them only when no record is pending, and OpenSSL allocates them again at the next record, so
/// a tunnel that carries data pays one allocation then and no per-record churn. .NET exposes no SSL*,
/// so the handle is read from the SslStream's private field; if the runtime or libssl does not have
/// what this expects, the release is off for good and nothing else changes.
/// </summary>
internal static partial class OpenSslRecordBuffers
{
    private const string LibSsl = "libssl.so.3";

    // Checked on .NET 10.0.12: the field (typed SafeDeleteSslContext) holds a SafeSslHandle, whose handle is the
    // SSL*. Handing OpenSSL any other pointer would corrupt memory, so another runtime major version, or another
    // type in the field, turns the release off.
    private const int KnownRuntimeMajorVersion = 10;
    private const string KnownContextType = "Microsoft.Win32.SafeHandles.SafeSslHandle";

    private static int s_disabled = OperatingSystem.IsLinux() && Environment.Version.Major == KnownRuntimeMajorVersion ? 0 : 1;

    /// <summary>
    /// Frees <paramref name="ssl"/>'s record buffers. Call only while no read or write is in progress
    /// on it (OpenSSL's SSL object is not thread-safe); returns whether anything was freed.
    /// </summary>
    public static bool TryRelease(SslStream ssl)
    {
        if (Volatile.Read(ref s_disabled) != 0) return false;
        try
        {
            if (SecurityContext(ssl) is not SafeHandle handle || handle.IsInvalid) return false;
            if (handle.GetType().FullName != KnownContextType)
            {
                Volatile.Write(ref s_disabled, 1);
                return false;
            }
            bool added = false;
            try
            {
                handle.DangerousAddRef(ref added);
                return FreeBuffers(handle.DangerousGetHandle()) == 1;
            }
            finally
            {
                if (added) handle.DangerousRelease();
            }
        }
        catch (Exception e) when (e is MissingMemberException or DllNotFoundException or EntryPointNotFoundException or TypeLoadException or BadImageFormatException)
        {
            Volatile.Write(ref s_disabled, 1);
            return false;
        }
    }

    // On Linux SslStream keeps its SafeSslHandle (an SSL*) in this field, typed as the internal
    // SafeDeleteSslContext (a SafeHandle). UnsafeAccessor cannot name an internal field type, so this is
    // the one reflective read: a constant name on typeof, which the trimmer and native AOT keep.
    private static readonly FieldInfo? s_securityContext = typeof(SslStream).GetField("_securityContext", BindingFlags.NonPublic | BindingFlags.Instance);

    private static object? SecurityContext(SslStream stream) =>
        s_securityContext is { } field ? field.GetValue(stream) : throw new MissingFieldException(nameof(SslStream), "_securityContext");

    [LibraryImport(LibSsl, EntryPoint = "SSL_free_buffers")]
    private static partial int FreeBuffers(IntPtr ssl);
}
