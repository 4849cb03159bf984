using System.Runtime.InteropServices;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>One connection's SSL object, with the BIOs it owns; freed once, when the connection is disposed (or finalized).</summary>
internal sealed class SslHandle : SafeHandle
{
    public SslHandle(IntPtr ssl) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(ssl);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        LibSsl.Free(handle);
        return true;
    }
}
