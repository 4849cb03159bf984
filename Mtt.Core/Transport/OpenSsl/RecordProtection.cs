using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>
/// One direction of a TLS 1.3 connection's record protection (RFC 8446 section 5.2-5.3): the AEAD keyed from a
/// traffic secret, its IV and the record sequence number. Nonces come only from the sequence, which only grows, so no
/// nonce repeats under one key; <see cref="Update"/> derives the next key (a KeyUpdate, section 7.2) and starts again
/// at zero. The AEAD is OpenSSL's own, through .NET's <see cref="AesGcm"/> and <see cref="ChaCha20Poly1305"/>.
/// </summary>
internal sealed class RecordProtection : IDisposable
{
    public const int TagLength = 16;
    private const int IvLength = 12;

    private readonly CipherSuite _suite;
    private readonly byte[] _secret;
    private readonly byte[] _iv = new byte[IvLength];
    private AesGcm? _gcm;
    private ChaCha20Poly1305? _chacha;

    /// <summary>Keys one direction from its traffic secret, which it takes (and zeroes when it is replaced or disposed).</summary>
    public RecordProtection(CipherSuite suite, byte[] secret, ulong sequence)
    {
        _suite = suite;
        _secret = secret;
        Sequence = sequence;
        Key();
    }

    /// <summary>The sequence number of the next record.</summary>
    public ulong Sequence { get; private set; }

    /// <summary>Encrypts <paramref name="inner"/> (content, content type) in place, the tag after it; <paramref name="header"/> is the additional data.</summary>
    public void Seal(ReadOnlySpan<byte> header, Span<byte> inner, Span<byte> tag)
    {
        Span<byte> nonce = stackalloc byte[IvLength];
        Nonce(nonce);
        if (_gcm is not null) _gcm.Encrypt(nonce, inner, inner, tag, header);
        else _chacha!.Encrypt(nonce, inner, inner, tag, header);
        Sequence++;
    }

    /// <summary>Decrypts <paramref name="ciphertext"/> into <paramref name="plaintext"/> (the same span or elsewhere); false when the tag does not match.</summary>
    public bool Open(ReadOnlySpan<byte> header, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plaintext)
    {
        Span<byte> nonce = stackalloc byte[IvLength];
        Nonce(nonce);
        try
        {
            if (_gcm is not null) _gcm.Decrypt(nonce, ciphertext, tag, plaintext, header);
            else _chacha!.Decrypt(nonce, ciphertext, tag, plaintext, header);
        }
        catch (AuthenticationTagMismatchException)
        {
            // The API's only way to say so; a forged record ends the connection, so this happens once per connection.
            return false;
        }
        Sequence++;
        return true;
    }

    /// <summary>Moves to the next traffic secret: application_traffic_secret_N+1 (RFC 8446 section 7.2).</summary>
    public void Update()
    {
        Span<byte> next = stackalloc byte[_secret.Length];
        TrafficKeys.ExpandLabel(_suite, _secret, "traffic upd"u8, next);
        next.CopyTo(_secret);
        CryptographicOperations.ZeroMemory(next);
        Sequence = 0;
        Key();
    }

    private void Key()
    {
        Span<byte> key = stackalloc byte[_suite.KeyLength];
        TrafficKeys.ExpandLabel(_suite, _secret, "key"u8, key);
        TrafficKeys.ExpandLabel(_suite, _secret, "iv"u8, _iv);
        _gcm?.Dispose();
        _chacha?.Dispose();
        if (_suite.IsChaCha20) _chacha = new ChaCha20Poly1305(key);
        else _gcm = new AesGcm(key, TagLength);
        CryptographicOperations.ZeroMemory(key);
    }

    // The per-record nonce: the 64-bit sequence, big-endian, left-padded to the IV's length and XORed with it (section 5.3).
    private void Nonce(Span<byte> nonce)
    {
        _iv.CopyTo(nonce);
        ulong mixed = BinaryPrimitives.ReadUInt64BigEndian(nonce[4..]) ^ Sequence;
        BinaryPrimitives.WriteUInt64BigEndian(nonce[4..], mixed);
    }

    public void Dispose()
    {
        _gcm?.Dispose();
        _chacha?.Dispose();
        CryptographicOperations.ZeroMemory(_secret);
        CryptographicOperations.ZeroMemory(_iv);
    }
}
