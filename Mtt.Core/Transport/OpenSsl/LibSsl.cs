using System.Runtime.InteropServices;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>
/// The libssl 3 entry points the OpenSSL engine calls: the library .NET itself loads on Linux, so the engine adds no
/// native dependency. Macros of ssl.h (SSL_CTX_set_mode, SSL_CTX_set_read_ahead, ...) are their SSL_CTX_ctrl calls.
/// </summary>
internal static unsafe partial class LibSsl
{
    private const string Library = OpenSslEngine.Library;

    // ssl.h, OpenSSL 3.0.
    public const int ErrorNone = 0;
    public const int ErrorSsl = 1;
    public const int ErrorWantRead = 2;
    public const int ErrorWantWrite = 3;
    public const int ErrorSyscall = 5;
    public const int ErrorZeroReturn = 6;

    public const int CtrlExtraChainCert = 14;
    public const int CtrlMode = 33;
    public const int CtrlSetReadAhead = 41;
    public const int CtrlSetSessionCacheMode = 44;
    public const int CtrlSetMinProtoVersion = 123;

    public const long ModeAcceptMovingWriteBuffer = 0x2;
    public const long ModeReleaseBuffers = 0x10;

    public const ulong OptionIgnoreUnexpectedEof = 1UL << 7;
    public const ulong OptionEnableKernelTls = 1UL << 3;
    public const ulong OptionNoRenegotiation = 1UL << 30;
    public const ulong OptionCipherServerPreference = 1UL << 22;
    public const ulong OptionPrioritizeChaCha = 1UL << 21;

    public const long SessionCacheOff = 0;
    public const int Tls12Version = 0x0303;

    public const int TlsExtOk = 0;
    public const int TlsExtAlertFatal = 2;

    [LibraryImport(Library, EntryPoint = "TLS_server_method")]
    public static partial IntPtr TlsServerMethod();

    [LibraryImport(Library, EntryPoint = "SSL_CTX_new")]
    public static partial IntPtr ContextNew(IntPtr method);

    [LibraryImport(Library, EntryPoint = "SSL_CTX_free")]
    public static partial void ContextFree(IntPtr context);

    [LibraryImport(Library, EntryPoint = "SSL_CTX_ctrl")]
    public static partial long ContextControl(IntPtr context, int command, long larg, IntPtr parg);

    [LibraryImport(Library, EntryPoint = "SSL_CTX_set_options")]
    public static partial ulong ContextSetOptions(IntPtr context, ulong options);

    [LibraryImport(Library, EntryPoint = "SSL_CTX_set_ciphersuites", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ContextSetCipherSuites(IntPtr context, string suites);

    [LibraryImport(Library, EntryPoint = "SSL_CTX_set_default_read_buffer_len")]
    public static partial void ContextSetDefaultReadBufferLength(IntPtr context, nuint length);

    [LibraryImport(Library, EntryPoint = "SSL_CTX_set_num_tickets")]
    public static partial int ContextSetNumTickets(IntPtr context, nuint tickets);

    [LibraryImport(Library, EntryPoint = "SSL_CTX_use_certificate")]
    public static partial int ContextUseCertificate(IntPtr context, IntPtr x509);

    [LibraryImport(Library, EntryPoint = "SSL_CTX_use_PrivateKey")]
    public static partial int ContextUsePrivateKey(IntPtr context, IntPtr key);

    [LibraryImport(Library, EntryPoint = "SSL_CTX_check_private_key")]
    public static partial int ContextCheckPrivateKey(IntPtr context);

    [LibraryImport(Library, EntryPoint = "SSL_CTX_set_alpn_select_cb")]
    public static partial void ContextSetAlpnSelect(IntPtr context, delegate* unmanaged[Cdecl]<IntPtr, byte**, byte*, byte*, uint, IntPtr, int> callback, IntPtr arg);

    [LibraryImport(Library, EntryPoint = "SSL_new")]
    public static partial IntPtr New(SslContextHandle context);

    [LibraryImport(Library, EntryPoint = "SSL_free")]
    public static partial void Free(IntPtr ssl);

    [LibraryImport(Library, EntryPoint = "SSL_set_accept_state")]
    public static partial void SetAcceptState(IntPtr ssl);

    [LibraryImport(Library, EntryPoint = "SSL_set_bio")]
    public static partial void SetBio(IntPtr ssl, IntPtr readBio, IntPtr writeBio);

    [LibraryImport(Library, EntryPoint = "SSL_set0_rbio")]
    public static partial void SetReadBio(IntPtr ssl, IntPtr readBio);

    [LibraryImport(Library, EntryPoint = "SSL_do_handshake")]
    public static partial int DoHandshake(IntPtr ssl);

    // SetLastError: a failed recv inside OpenSSL leaves its errno, which tells a reset from a plain end.
    [LibraryImport(Library, EntryPoint = "SSL_read", SetLastError = true)]
    public static partial int Read(IntPtr ssl, byte* buffer, int count);

    [LibraryImport(Library, EntryPoint = "SSL_peek", SetLastError = true)]
    public static partial int Peek(IntPtr ssl, byte* buffer, int count);

    [LibraryImport(Library, EntryPoint = "SSL_write")]
    public static partial int Write(IntPtr ssl, byte* buffer, int count);

    [LibraryImport(Library, EntryPoint = "SSL_get_error")]
    public static partial int GetError(IntPtr ssl, int result);

    [LibraryImport(Library, EntryPoint = "SSL_free_buffers")]
    public static partial int FreeBuffers(IntPtr ssl);

    [LibraryImport(Library, EntryPoint = "SSL_version")]
    public static partial int Version(IntPtr ssl);

    [LibraryImport(Library, EntryPoint = "SSL_get0_alpn_selected")]
    public static partial void GetAlpnSelected(IntPtr ssl, byte** data, uint* length);

    [LibraryImport(Library, EntryPoint = "SSL_select_next_proto")]
    public static partial int SelectNextProto(byte** output, byte* outputLength, byte* server, uint serverLength, byte* client, uint clientLength);

    [LibraryImport(Library, EntryPoint = "SSL_set_read_ahead")]
    public static partial void SetReadAhead(IntPtr ssl, int yes);

    [LibraryImport(Library, EntryPoint = "SSL_has_pending")]
    public static partial int HasPending(IntPtr ssl);

    [LibraryImport(Library, EntryPoint = "SSL_get_current_cipher")]
    public static partial IntPtr GetCurrentCipher(IntPtr ssl);

    [LibraryImport(Library, EntryPoint = "SSL_CTX_get_ciphers")]
    public static partial IntPtr ContextGetCiphers(IntPtr context);

    // A pointer, not a string: a marshalled string return would be freed, and this one is OpenSSL's constant.
    [LibraryImport(Library, EntryPoint = "SSL_CIPHER_standard_name")]
    public static partial IntPtr CipherStandardName(IntPtr cipher);

    [LibraryImport(Library, EntryPoint = "SSL_CIPHER_get_protocol_id")]
    public static partial ushort CipherProtocolId(IntPtr cipher);

    [LibraryImport(Library, EntryPoint = "SSL_CTX_set_keylog_callback")]
    public static partial void ContextSetKeylogCallback(IntPtr context, delegate* unmanaged[Cdecl]<IntPtr, byte*, void> callback);

    [LibraryImport(Library, EntryPoint = "BIO_new_socket")]
    public static partial IntPtr BioNewSocket(int fd, int closeFlag);
}
