using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>
/// The write BIO of every session: a record SSL_write produces goes straight into the buffer the stream is about to
/// send (<see cref="SendTarget"/>), where a memory BIO cost a zeroed grow, a copy in and a copy out per 16 KiB record.
/// Bytes OpenSSL writes while no buffer is set (the handshake's flights, an alert, a KeyUpdate answer) or that do not
/// fit go to an overflow memory BIO, taken out before anything newer is encrypted, so the order on the wire holds.
/// </summary>
internal static unsafe partial class SendBio
{
    // bio.h: a source/sink BIO; BIO_CTRL_FLUSH, which SSL calls after each flight, must succeed.
    private const int TypeSourceSink = 0x0400;
    private const int ControlFlush = 11;

    private static readonly IntPtr s_method = CreateMethod();

    /// <summary>Where the next records go: a send buffer while <see cref="OpenSslSession.Encrypt"/> runs, else nothing.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SendTarget
    {
        public byte* Buffer;
        public int Room;
        public int Length;
        // A memory BIO the session owns: output with no buffer set, or too large for the one set.
        public IntPtr Overflow;
    }

    /// <summary>A BIO writing to <paramref name="target"/>, which must outlive it; null when OpenSSL could not make one.</summary>
    public static IntPtr New(SendTarget* target)
    {
        IntPtr bio = BioNew(s_method);
        if (bio == IntPtr.Zero) return IntPtr.Zero;
        BioSetData(bio, (IntPtr)target);
        BioSetInit(bio, 1);
        return bio;
    }

    private static IntPtr CreateMethod()
    {
        IntPtr method = BioMethodNew(BioGetNewIndex() | TypeSourceSink, "mtt send buffer\0"u8);
        if (method == IntPtr.Zero) throw new OutOfMemoryException("BIO_meth_new failed");
        BioMethodSetWrite(method, &Write);
        BioMethodSetControl(method, &Control);
        // Made once for the process and never freed: every session's write BIO uses it.
        return method;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Write(IntPtr bio, byte* data, int length)
    {
        var target = (SendTarget*)BioGetData(bio);
        if (target->Buffer != null)
        {
            if (target->Room - target->Length >= length)
            {
                Buffer.MemoryCopy(data, target->Buffer + target->Length, length, length);
                target->Length += length;
                return length;
            }
            // Everything after this goes behind it, in the overflow, until the overflow has been sent.
            target->Buffer = null;
        }
        return LibCrypto.BioWrite(target->Overflow, data, length);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static long Control(IntPtr bio, int command, long number, IntPtr pointer) => command == ControlFlush ? 1 : 0;

    private const string Library = LibCrypto.Library;

    [LibraryImport(Library, EntryPoint = "BIO_get_new_index")]
    private static partial int BioGetNewIndex();

    [LibraryImport(Library, EntryPoint = "BIO_meth_new")]
    private static partial IntPtr BioMethodNew(int type, ReadOnlySpan<byte> name);

    [LibraryImport(Library, EntryPoint = "BIO_meth_set_write")]
    private static partial int BioMethodSetWrite(IntPtr method, delegate* unmanaged[Cdecl]<IntPtr, byte*, int, int> write);

    [LibraryImport(Library, EntryPoint = "BIO_meth_set_ctrl")]
    private static partial int BioMethodSetControl(IntPtr method, delegate* unmanaged[Cdecl]<IntPtr, int, long, IntPtr, long> control);

    [LibraryImport(Library, EntryPoint = "BIO_new")]
    private static partial IntPtr BioNew(IntPtr method);

    [LibraryImport(Library, EntryPoint = "BIO_set_data")]
    private static partial void BioSetData(IntPtr bio, IntPtr data);

    [LibraryImport(Library, EntryPoint = "BIO_get_data")]
    private static partial IntPtr BioGetData(IntPtr bio);

    [LibraryImport(Library, EntryPoint = "BIO_set_init")]
    private static partial void BioSetInit(IntPtr bio, int init);
}
