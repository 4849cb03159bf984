using System.Runtime.InteropServices;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>The libcrypto 3 entry points the OpenSSL engine calls: memory BIOs, DER decoding, the error queue.</summary>
internal static unsafe partial class LibCrypto
{
    /// <summary>The libcrypto of <see cref="OpenSslEngine.Library"/>; every libcrypto LibraryImport of the engine names it.</summary>
    public const string Library = "libcrypto.so.3";

    public const int BioControlPending = 10;
    public const int BioControlInfo = 3;

    [LibraryImport(Library, EntryPoint = "OPENSSL_sk_num")]
    public static partial int StackCount(IntPtr stack);

    [LibraryImport(Library, EntryPoint = "OPENSSL_sk_value")]
    public static partial IntPtr StackValue(IntPtr stack, int index);

    [LibraryImport(Library, EntryPoint = "BIO_s_mem")]
    public static partial IntPtr BioMemoryMethod();

    [LibraryImport(Library, EntryPoint = "BIO_new")]
    public static partial IntPtr BioNew(IntPtr method);

    [LibraryImport(Library, EntryPoint = "BIO_free")]
    public static partial int BioFree(IntPtr bio);

    [LibraryImport(Library, EntryPoint = "BIO_read")]
    public static partial int BioRead(IntPtr bio, byte* buffer, int count);

    [LibraryImport(Library, EntryPoint = "BIO_write")]
    public static partial int BioWrite(IntPtr bio, byte* buffer, int count);

    [LibraryImport(Library, EntryPoint = "BIO_ctrl")]
    public static partial long BioControl(IntPtr bio, int command, long larg, IntPtr parg);

    [LibraryImport(Library, EntryPoint = "d2i_X509")]
    public static partial IntPtr DecodeX509(IntPtr reuse, byte** input, long length);

    [LibraryImport(Library, EntryPoint = "X509_free")]
    public static partial void X509Free(IntPtr x509);

    [LibraryImport(Library, EntryPoint = "d2i_AutoPrivateKey")]
    public static partial IntPtr DecodePrivateKey(IntPtr reuse, byte** input, long length);

    [LibraryImport(Library, EntryPoint = "EVP_PKEY_free")]
    public static partial void KeyFree(IntPtr key);

    [LibraryImport(Library, EntryPoint = "ERR_get_error")]
    public static partial ulong ErrorGet();

    [LibraryImport(Library, EntryPoint = "ERR_clear_error")]
    public static partial void ErrorClear();

    [LibraryImport(Library, EntryPoint = "ERR_error_string_n")]
    public static partial void ErrorString(ulong error, byte* buffer, nuint length);

    /// <summary>Bytes a memory BIO holds (BIO_pending is this macro).</summary>
    public static int Pending(IntPtr bio) => (int)BioControl(bio, BioControlPending, 0, IntPtr.Zero);

    /// <summary>What a memory BIO holds, in place (BIO_get_mem_data is this macro); valid until the BIO is next used.</summary>
    public static ReadOnlySpan<byte> MemoryData(IntPtr bio)
    {
        byte* data;
        long length = BioControl(bio, BioControlInfo, 0, (IntPtr)(&data));
        return length <= 0 ? default : new ReadOnlySpan<byte>(data, (int)length);
    }

    /// <summary>
    /// The oldest error on this thread's queue as OpenSSL's text (e.g. "error:0A00010B:SSL routines::wrong version
    /// number"), the queue emptied; null when it was empty. For failures only: it allocates the string.
    /// </summary>
    public static string? TakeErrors()
    {
        ulong first = ErrorGet();
        if (first == 0) return null;
        while (ErrorGet() != 0) { }
        byte* text = stackalloc byte[256];
        ErrorString(first, text, 256);
        return Marshal.PtrToStringUTF8((IntPtr)text);
    }
}
