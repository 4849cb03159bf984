using System.Security.Cryptography;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>
/// The TLS 1.3 cipher suites whose records the engine protects itself after OpenSSL's handshake (RFC 8446 section
/// B.4): their AEAD's key length and the hash of their key schedule. A connection on any other suite (the CCM ones,
/// which no default client offers) stays with OpenSSL's record layer.
/// </summary>
internal readonly record struct CipherSuite(ushort Id, int KeyLength, HashAlgorithmName Hash, int HashLength)
{
    public static readonly CipherSuite Aes128GcmSha256 = new(0x1301, 16, HashAlgorithmName.SHA256, 32);
    public static readonly CipherSuite Aes256GcmSha384 = new(0x1302, 32, HashAlgorithmName.SHA384, 48);
    public static readonly CipherSuite ChaCha20Poly1305Sha256 = new(0x1303, 32, HashAlgorithmName.SHA256, 32);

    public bool IsChaCha20 => Id == ChaCha20Poly1305Sha256.Id;

    /// <summary>The suite with IANA number <paramref name="id"/>, when this machine's .NET can run its AEAD.</summary>
    public static bool TryFind(ushort id, out CipherSuite suite)
    {
        suite = id switch
        {
            0x1301 => Aes128GcmSha256,
            0x1302 => Aes256GcmSha384,
            0x1303 => ChaCha20Poly1305Sha256,
            _ => default,
        };
        return suite.Id != 0 && (suite.IsChaCha20 ? ChaCha20Poly1305.IsSupported : AesGcm.IsSupported);
    }
}
