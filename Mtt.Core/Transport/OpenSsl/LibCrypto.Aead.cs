using System.Runtime.InteropServices;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>libcrypto's AEAD ciphers (EVP), for the TLS 1.3 record layer (<see cref="RecordProtection"/>).</summary>
internal static unsafe partial class LibCrypto
{
    // evp.h: EVP_CTRL_AEAD_GET_TAG and EVP_CTRL_AEAD_SET_TAG (the GCM and ChaCha20-Poly1305 controls share them).
    public const int AeadGetTag = 0x10;
    public const int AeadSetTag = 0x11;

    [LibraryImport(Library, EntryPoint = "EVP_CIPHER_fetch", StringMarshalling = StringMarshalling.Utf8)]
    public static partial IntPtr CipherFetch(IntPtr libraryContext, string algorithm, string? properties);

    [LibraryImport(Library, EntryPoint = "EVP_CIPHER_CTX_new")]
    public static partial IntPtr CipherContextNew();

    [LibraryImport(Library, EntryPoint = "EVP_CIPHER_CTX_free")]
    public static partial void CipherContextFree(IntPtr context);

    [LibraryImport(Library, EntryPoint = "EVP_CipherInit_ex")]
    public static partial int CipherInit(IntPtr context, IntPtr cipher, IntPtr engine, byte* key, byte* iv, int encrypt);

    [LibraryImport(Library, EntryPoint = "EVP_CipherUpdate")]
    public static partial int CipherUpdate(IntPtr context, byte* output, int* outputLength, byte* input, int inputLength);

    [LibraryImport(Library, EntryPoint = "EVP_CipherFinal_ex")]
    public static partial int CipherFinal(IntPtr context, byte* output, int* outputLength);

    [LibraryImport(Library, EntryPoint = "EVP_CIPHER_CTX_ctrl")]
    public static partial int CipherControl(IntPtr context, int type, int argument, byte* pointer);
}
