using System.Runtime.InteropServices;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>
/// The order in which the server picks a TLS 1.3 suite: the Go original's on AES hardware (docs/protocol.md §6.1),
/// AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305, whatever order the client lists them in, except that a client that
/// lists ChaCha20 first gets it (that is how a client without AES instructions says so). OpenSSL's own clients
/// (.NET's, Node's, curl's) list AES-256 first, and without this the server follows the client. Which suites are
/// enabled stays the system's OpenSSL configuration's to say: only the order of those it enabled changes.
/// </summary>
internal static class SuiteOrder
{
    private static readonly string[] s_preferred = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"];

    /// <summary>Puts the context's enabled TLS 1.3 suites in the server's order and makes the server's order decide.</summary>
    public static void Apply(IntPtr context)
    {
        var enabled = new List<string>();
        IntPtr ciphers = LibSsl.ContextGetCiphers(context);
        int count = ciphers == IntPtr.Zero ? 0 : LibCrypto.StackCount(ciphers);
        for (int i = 0; i < count; i++)
        {
            IntPtr cipher = LibCrypto.StackValue(ciphers, i);
            // TLS 1.3 suites are 0x13xx; the TLS 1.2 cipher list keeps its own (server-preferred) order.
            if ((LibSsl.CipherProtocolId(cipher) & 0xFF00) == 0x1300 && Marshal.PtrToStringUTF8(LibSsl.CipherStandardName(cipher)) is { } name)
                enabled.Add(name);
        }
        if (enabled.Count == 0) return;
        var ordered = s_preferred.Where(enabled.Contains).Concat(enabled.Where(name => !s_preferred.Contains(name)));
        if (LibSsl.ContextSetCipherSuites(context, string.Join(':', ordered)) != 1)
            throw new InvalidOperationException("OpenSSL refused the TLS 1.3 suites it had enabled itself");
        LibSsl.ContextSetOptions(context, LibSsl.OptionCipherServerPreference | LibSsl.OptionPrioritizeChaCha);
    }
}
