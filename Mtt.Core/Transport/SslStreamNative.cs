using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Mtt.Core.Transport;

/// <summary>
/// The SSL* under an SslStream on Linux, for the few libssl calls .NET does not make for us
/// (<see cref="OpenSslRecordBuffers"/>, <see cref="SslStreamTickets"/>). .NET exposes no SSL*, so the handle is read
/// from the SslStream's private field; if the runtime does not have what this expects, every call is off for good
/// and nothing else changes.
/// </summary>
internal static class SslStreamNative
{
    // Checked on .NET 10.0.12: the field (typed SafeDeleteSslContext) holds a SafeSslHandle, whose handle is the
    // SSL*. Handing OpenSSL any other pointer would corrupt memory, so another runtime major version, or another
    // type in the field, turns the calls off.
    private const int KnownRuntimeMajorVersion = 10;
    private const string KnownContextType = "Microsoft.Win32.SafeHandles.SafeSslHandle";

    private static int s_disabled = OperatingSystem.IsLinux() && Environment.Version.Major == KnownRuntimeMajorVersion ? 0 : 1;

    /// <summary>
    /// Runs <paramref name="call"/> on <paramref name="ssl"/>'s SSL*, holding the handle meanwhile; false when the handle
    /// cannot be had (or libssl lacks the entry point). Call only while no read or write is in progress on the stream
    /// (OpenSSL's SSL object is not thread-safe).
    /// </summary>
    public static bool TryWithSsl(SslStream ssl, Func<IntPtr, bool> call)
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
                return call(handle.DangerousGetHandle());
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
}
