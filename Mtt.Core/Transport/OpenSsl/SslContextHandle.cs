using System.Runtime.InteropServices;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>
/// An SSL_CTX: the certificate, key and settings every connection made from it shares. SSL_new takes a reference of
/// its own, so freeing this after a certificate reload leaves live connections their context.
/// </summary>
internal sealed class SslContextHandle : SafeHandle
{
    public SslContextHandle(IntPtr context) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(context);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        LibSsl.ContextFree(handle);
        return true;
    }
}
