using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>
/// Takes a TLS 1.3 connection's two application traffic secrets as OpenSSL derives them, through its key-log hook
/// (SSL_CTX_set_keylog_callback, the NSS key log format), which is the only way libssl 3.0 gives them out. They go
/// to the session whose handshake is running on this thread, which hands them to its own record layer
/// (<see cref="Tls13RecordStream"/>) and never writes them anywhere.
/// </summary>
internal static unsafe class TrafficSecretLog
{
    [ThreadStatic] private static OpenSslSession? t_handshaking;

    /// <summary>Installs the hook on <paramref name="context"/>.</summary>
    public static void Install(IntPtr context) => LibSsl.ContextSetKeylogCallback(context, &Capture);

    /// <summary>Routes what OpenSSL logs on this thread to <paramref name="session"/> until the returned scope ends.</summary>
    public static Scope Capturing(OpenSslSession session)
    {
        t_handshaking = session;
        return default;
    }

    public readonly struct Scope : IDisposable
    {
        public void Dispose() => t_handshaking = null;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Capture(IntPtr ssl, byte* line)
    {
        // A handshake always runs inside Capturing (OpenSslSession.Handshake); the check keeps a stray call harmless.
        if (t_handshaking is { } session) session.TakeSecret(ssl, MemoryMarshal.CreateReadOnlySpanFromNullTerminated(line));
    }
}
