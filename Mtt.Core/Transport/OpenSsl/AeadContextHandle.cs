using System.Runtime.InteropServices;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>An EVP_CIPHER_CTX: freed once, and never while a record is being sealed or opened with it (callers hold a reference).</summary>
internal sealed class AeadContextHandle : SafeHandle
{
    public AeadContextHandle() : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(LibCrypto.CipherContextNew());
        if (IsInvalid) throw new OutOfMemoryException("EVP_CIPHER_CTX_new failed");
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        LibCrypto.CipherContextFree(handle);
        return true;
    }
}
