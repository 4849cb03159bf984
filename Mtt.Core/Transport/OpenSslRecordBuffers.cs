using System.Net.Security;
using System.Runtime.InteropServices;

namespace Mtt.Core.Transport;

/// <summary>
/// Gives back the record buffers OpenSSL keeps in every connection (a read and a write buffer of
/// about 17 KiB each, allocated by the handshake and held for the connection's life, since .NET does
/// not set SSL_MODE_RELEASE_BUFFERS): most of what an idle TLS tunnel costs. <c>SSL_free_buffers</c>
/// frees them only when no record is pending; then the mode is set on the connection, so OpenSSL frees
/// them itself whenever they are empty again, as the OpenSSL engine's context does: an smux session whose
/// client opened a stream after the upgrade (a SYN, a first request) no longer keeps ~17 KiB for its life
/// (issue 14). A tunnel that carries data pays a malloc and a free per record burst for it.
/// </summary>
internal static partial class OpenSslRecordBuffers
{
    // The libssl .NET loads too; its name is kept in one place, with the engine.
    private const string LibSsl = OpenSsl.OpenSslEngine.Library;

    // SSL_set_mode and SSL_get_mode are macros over SSL_ctrl (ssl.h).
    private const int CtrlMode = 33;
    private const long ModeReleaseBuffers = 0x10;

    /// <summary>
    /// Frees <paramref name="ssl"/>'s record buffers and has OpenSSL free them whenever they are empty from now on.
    /// Call only while no read or write is in progress on it (OpenSSL's SSL object is not thread-safe); returns whether
    /// the buffers were freed.
    /// </summary>
    public static bool TryRelease(SslStream ssl) => SslStreamNative.TryWithSsl(ssl, static handle =>
    {
        Control(handle, CtrlMode, ModeReleaseBuffers, IntPtr.Zero);
        return FreeBuffers(handle) == 1;
    });

    /// <summary>Whether OpenSSL frees <paramref name="ssl"/>'s record buffers whenever they are empty; for tests.</summary>
    internal static bool ReleasesWhenEmpty(SslStream ssl) =>
        SslStreamNative.TryWithSsl(ssl, static handle => (Control(handle, CtrlMode, 0, IntPtr.Zero) & ModeReleaseBuffers) != 0);

    [LibraryImport(LibSsl, EntryPoint = "SSL_free_buffers")]
    private static partial int FreeBuffers(IntPtr ssl);

    [LibraryImport(LibSsl, EntryPoint = "SSL_ctrl")]
    private static partial long Control(IntPtr ssl, int command, long larg, IntPtr parg);
}
