using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>
/// One direction of a TLS 1.3 connection's record protection (RFC 8446 section 5.2-5.3): libcrypto's AEAD keyed from a
/// traffic secret, its IV and the record sequence number. Nonces come only from the sequence, which only grows, so no
/// nonce repeats under one key; <see cref="Update"/> derives the next key (a KeyUpdate, section 7.2) and starts again
/// at zero. libcrypto is called directly (EVP), not through .NET's AesGcm: per record that is a quarter of the calls'
/// overhead, the content and its type byte are sealed from where they are (no copy), and a forged record is a return
/// value rather than an exception.
/// </summary>
internal sealed unsafe class RecordProtection : IDisposable
{
    public const int TagLength = 16;
    private const int IvLength = 12;

    private readonly CipherSuite _suite;
    private readonly byte[] _secret;
    private readonly byte[] _iv = new byte[IvLength];
    private readonly AeadContextHandle _context = new();
    private readonly int _encrypt;

    /// <summary>Keys one direction from its traffic secret, which it takes (and zeroes when it is replaced or disposed).</summary>
    /// <param name="encrypt">True for the server's direction (sealing), false for the client's (opening).</param>
    public RecordProtection(CipherSuite suite, byte[] secret, ulong sequence, bool encrypt)
    {
        _suite = suite;
        _secret = secret;
        _encrypt = encrypt ? 1 : 0;
        Sequence = sequence;
        Key();
    }

    /// <summary>The sequence number of the next record.</summary>
    public ulong Sequence { get; private set; }

    /// <summary>
    /// Starts sealing a record whose additional data is <paramref name="header"/>; its content follows in pieces
    /// (<see cref="SealPart"/>, each piece from wherever it lies), then <see cref="SealEnd"/>: AES-GCM and ChaCha20-Poly1305
    /// encrypt a stream, so where the pieces break changes nothing.
    /// </summary>
    public void SealBegin(ReadOnlySpan<byte> header)
    {
        byte* nonce = stackalloc byte[IvLength];
        Nonce(nonce);
        bool held = false;
        try
        {
            _context.DangerousAddRef(ref held);
            int length;
            fixed (byte* aad = header)
            {
                if (LibCrypto.CipherInit(_context.DangerousGetHandle(), IntPtr.Zero, IntPtr.Zero, null, nonce, _encrypt) != 1
                    || LibCrypto.CipherUpdate(_context.DangerousGetHandle(), null, &length, aad, header.Length) != 1)
                    throw SealFailed();
            }
        }
        finally
        {
            if (held) _context.DangerousRelease();
        }
    }

    /// <summary>Encrypts the next piece of the record's content into <paramref name="ciphertext"/> (as long as the piece).</summary>
    public void SealPart(ReadOnlySpan<byte> content, Span<byte> ciphertext)
    {
        bool held = false;
        try
        {
            _context.DangerousAddRef(ref held);
            int length;
            fixed (byte* input = content)
            fixed (byte* output = ciphertext)
            {
                if (LibCrypto.CipherUpdate(_context.DangerousGetHandle(), output, &length, input, content.Length) != 1 || length != content.Length)
                    throw SealFailed();
            }
        }
        finally
        {
            if (held) _context.DangerousRelease();
        }
    }

    /// <summary>Ends the record: its <paramref name="contentType"/> (one byte) then the tag, into <paramref name="typeAndTag"/>.</summary>
    public void SealEnd(byte contentType, Span<byte> typeAndTag)
    {
        bool held = false;
        try
        {
            _context.DangerousAddRef(ref held);
            IntPtr context = _context.DangerousGetHandle();
            int length;
            fixed (byte* output = typeAndTag)
            {
                if (LibCrypto.CipherUpdate(context, output, &length, &contentType, 1) != 1
                    || LibCrypto.CipherFinal(context, output + 1, &length) != 1
                    || LibCrypto.CipherControl(context, LibCrypto.AeadGetTag, TagLength, output + 1) != 1)
                    throw SealFailed();
            }
        }
        finally
        {
            if (held) _context.DangerousRelease();
        }
        Sequence++;
    }

    private static CryptographicException SealFailed() => new($"sealing a record failed: {LibCrypto.TakeErrors()}");

    /// <summary>Decrypts <paramref name="ciphertext"/> into <paramref name="plaintext"/> (the same span or elsewhere); false when the tag does not match.</summary>
    public bool Open(ReadOnlySpan<byte> header, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plaintext)
    {
        byte* nonce = stackalloc byte[IvLength];
        Nonce(nonce);
        bool held = false;
        bool authentic;
        try
        {
            _context.DangerousAddRef(ref held);
            IntPtr context = _context.DangerousGetHandle();
            int length;
            fixed (byte* aad = header)
            fixed (byte* input = ciphertext)
            fixed (byte* output = plaintext)
            fixed (byte* tagIn = tag)
            {
                // The tag is set before the final call, which checks it.
                authentic = LibCrypto.CipherInit(context, IntPtr.Zero, IntPtr.Zero, null, nonce, _encrypt) == 1
                    && LibCrypto.CipherUpdate(context, null, &length, aad, header.Length) == 1
                    && LibCrypto.CipherUpdate(context, output, &length, input, ciphertext.Length) == 1
                    && LibCrypto.CipherControl(context, LibCrypto.AeadSetTag, TagLength, tagIn) == 1
                    && LibCrypto.CipherFinal(context, output + ciphertext.Length, &length) == 1;
            }
            if (!authentic) LibCrypto.ErrorClear();
        }
        finally
        {
            if (held) _context.DangerousRelease();
        }
        if (authentic) Sequence++;
        return authentic;
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
        bool held = false;
        try
        {
            _context.DangerousAddRef(ref held);
            fixed (byte* keyBytes = key)
            {
                if (LibCrypto.CipherInit(_context.DangerousGetHandle(), _suite.Cipher, IntPtr.Zero, keyBytes, null, _encrypt) != 1)
                    throw new CryptographicException($"keying {_suite.Id:x4} failed: {LibCrypto.TakeErrors()}");
            }
        }
        finally
        {
            if (held) _context.DangerousRelease();
            CryptographicOperations.ZeroMemory(key);
        }
    }

    // The per-record nonce: the 64-bit sequence, big-endian, left-padded to the IV's length and XORed with it (section 5.3).
    private void Nonce(byte* nonce)
    {
        var span = new Span<byte>(nonce, IvLength);
        _iv.CopyTo(span);
        BinaryPrimitives.WriteUInt64BigEndian(span[4..], BinaryPrimitives.ReadUInt64BigEndian(span[4..]) ^ Sequence);
    }

    public void Dispose()
    {
        // The key schedule is in the context, which OpenSSL clears as it frees it.
        _context.Dispose();
        CryptographicOperations.ZeroMemory(_secret);
        CryptographicOperations.ZeroMemory(_iv);
    }
}
