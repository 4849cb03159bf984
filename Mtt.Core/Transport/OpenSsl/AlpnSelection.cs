using System.Runtime.InteropServices;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>
/// The server's ALPN choice (RFC 7301), as the SslStream engine makes it: http/1.1 when the client offers it (the
/// upgrade is an HTTP/1.1 request), a fatal no_application_protocol alert when it offers only others, and no
/// extension at all for a client that sent none (OpenSSL does not call back then).
/// </summary>
internal static unsafe class AlpnSelection
{
    // The wire form of the server's list: a length byte, then the name (RFC 7301 section 3.1).
    private static readonly byte* s_serverProtocols = Create();

    private static byte* Create()
    {
        ReadOnlySpan<byte> list = "\u0008http/1.1"u8;
        byte* native = (byte*)NativeMemory.Alloc((nuint)list.Length);
        list.CopyTo(new Span<byte>(native, list.Length));
        return native;
    }

    /// <summary>Installs the choice on <paramref name="context"/>.</summary>
    public static void Install(IntPtr context) => LibSsl.ContextSetAlpnSelect(context, &Select, IntPtr.Zero);

    [UnmanagedCallersOnly(CallConvs = [typeof(System.Runtime.CompilerServices.CallConvCdecl)])]
    private static int Select(IntPtr ssl, byte** output, byte* outputLength, byte* clientList, uint clientLength, IntPtr argument)
    {
        // OPENSSL_NPN_NEGOTIATED (1): a protocol both sides have; otherwise it points at the server's first, which we refuse.
        const int Negotiated = 1;
        int outcome = LibSsl.SelectNextProto(output, outputLength, s_serverProtocols, 9, clientList, clientLength);
        return outcome == Negotiated ? LibSsl.TlsExtOk : LibSsl.TlsExtAlertFatal;
    }
}
