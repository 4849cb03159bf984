using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>
/// The TLS 1.3 cipher suites whose records the engine protects itself after OpenSSL's handshake (RFC 8446 section
/// B.4): their AEAD (libcrypto's, fetched once per process), its key length and the hash of their key schedule. A
/// connection on any other suite (the CCM ones, which no default client offers) stays with OpenSSL's record layer.
/// </summary>
internal sealed class CipherSuite
{
    public static readonly CipherSuite Aes128GcmSha256 = new(0x1301, "AES-128-GCM", 16, HashAlgorithmName.SHA256, 32);
    public static readonly CipherSuite Aes256GcmSha384 = new(0x1302, "AES-256-GCM", 32, HashAlgorithmName.SHA384, 48);
    public static readonly CipherSuite ChaCha20Poly1305Sha256 = new(0x1303, "ChaCha20-Poly1305", 32, HashAlgorithmName.SHA256, 32);

    private CipherSuite(ushort id, string algorithm, int keyLength, HashAlgorithmName hash, int hashLength)
    {
        Id = id;
        KeyLength = keyLength;
        Hash = hash;
        HashLength = hashLength;
        // Fetched once and kept for the process: an implicit fetch per connection would cost a provider lookup each.
        Cipher = LibCrypto.CipherFetch(IntPtr.Zero, algorithm, null);
    }

    public ushort Id { get; }

    public int KeyLength { get; }

    public HashAlgorithmName Hash { get; }

    public int HashLength { get; }

    /// <summary>libcrypto's EVP_CIPHER; zero when this OpenSSL does not have it.</summary>
    public IntPtr Cipher { get; }

    /// <summary>The suite with IANA number <paramref name="id"/>, when this machine's libcrypto has its AEAD.</summary>
    public static bool TryFind(ushort id, [NotNullWhen(true)] out CipherSuite? suite)
    {
        suite = id switch
        {
            0x1301 => Aes128GcmSha256,
            0x1302 => Aes256GcmSha384,
            0x1303 => ChaCha20Poly1305Sha256,
            _ => null,
        };
        return suite is { Cipher: not 0 };
    }
}
