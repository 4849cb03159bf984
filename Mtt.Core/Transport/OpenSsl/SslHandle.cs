using System.Runtime.InteropServices;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>
/// One connection's SSL object, with the BIOs it owns, and the send target its write BIO points to with that target's
/// overflow BIO; freed once, when the connection is disposed (or finalized): the SSL first, so no BIO outlives its target.
/// </summary>
internal sealed unsafe class SslHandle : SafeHandle
{
    private readonly SendBio.SendTarget* _target;

    public SslHandle(IntPtr ssl, SendBio.SendTarget* target) : base(IntPtr.Zero, ownsHandle: true)
    {
        _target = target;
        SetHandle(ssl);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        LibSsl.Free(handle);
        if (_target->Overflow != IntPtr.Zero) LibCrypto.BioFree(_target->Overflow);
        NativeMemory.Free(_target);
        return true;
    }
}
