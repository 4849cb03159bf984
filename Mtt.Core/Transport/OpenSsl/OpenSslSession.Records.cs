using System.Runtime.InteropServices;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>Application data: decrypting what the socket holds, encrypting into a caller's buffer.</summary>
internal sealed unsafe partial class OpenSslSession
{
    /// <summary>A TLS record carries at most this much plaintext (RFC 8446 section 5.1).</summary>
    public const int MaxPlaintextRecord = 16 * 1024;

    // Ciphertext room one record may need: its plaintext, the header, and the largest expansion (TLS 1.2 CBC with
    // SHA-384 and 255 bytes of padding adds 325; AEAD suites add 22-29).
    public const int RecordRoom = MaxPlaintextRecord + 512;

    // errno values that mean the peer reset or vanished, which the relay reports as the client's end.
    private const int ConnectionReset = 104;

    /// <summary>The error text of a reset, which the stream reports as the socket's ConnectionReset.</summary>
    public const string ResetText = "Connection reset by peer";

    /// <summary>
    /// Decrypts into <paramref name="destination"/> without waiting; an empty destination asks only whether decrypted
    /// bytes are ready (and decrypts a record to find out, keeping it for the next read).
    /// </summary>
    public ReadOutcome Read(Span<byte> destination, out int count, out string? error)
    {
        count = 0;
        error = null;
        lock (_lock)
        {
            if (_disposed)
            {
                error = "the connection was closed";
                return ReadOutcome.Failed;
            }
            while (true)
            {
                int result;
                int errno = 0;
                bool socketHeld = false;
                try
                {
                    // The descriptor must stay ours while OpenSSL reads it: a Socket disposed by another task would
                    // otherwise free the number for reuse by a new connection.
                    if (_readsSocket) _socket.SafeHandle.DangerousAddRef(ref socketHeld);
                    LibCrypto.ErrorClear();
                    byte probe;
                    fixed (byte* start = destination)
                    {
                        result = destination.IsEmpty ? LibSsl.Peek(_ssl, &probe, 1) : LibSsl.Read(_ssl, start, destination.Length);
                    }
                    if (result <= 0) errno = Marshal.GetLastPInvokeError();
                }
                catch (ObjectDisposedException)
                {
                    error = "the connection was closed";
                    return ReadOutcome.Failed;
                }
                finally
                {
                    if (socketHeld) _socket.SafeHandle.DangerousRelease();
                }

                if (result > 0)
                {
                    count = destination.IsEmpty ? 0 : result;
                    return ReadOutcome.Data;
                }
                switch (LibSsl.GetError(_ssl, result))
                {
                    case LibSsl.ErrorWantRead when !_readsSocket:
                        // The handshake's memory BIO is empty: from now on OpenSSL reads the socket itself.
                        SwitchToSocket();
                        continue;
                    case LibSsl.ErrorWantRead:
                        return ReadOutcome.WouldBlock;
                    case LibSsl.ErrorZeroReturn:
                        return ReadOutcome.End;
                    case LibSsl.ErrorSyscall when errno == 0:
                        LibCrypto.ErrorClear();
                        return ReadOutcome.End;
                    case LibSsl.ErrorSyscall:
                        LibCrypto.ErrorClear();
                        error = errno == ConnectionReset ? ResetText : $"recv failed (errno {errno})";
                        return ReadOutcome.Failed;
                    default:
                        error = LibCrypto.TakeErrors() ?? "TLS protocol error";
                        return ReadOutcome.Failed;
                }
            }
        }
    }

    /// <summary>
    /// Encrypts from <paramref name="plaintext"/> into <paramref name="ciphertext"/> as many whole records as fit
    /// (after any ciphertext OpenSSL produced on its own, such as a KeyUpdate answer); returns the ciphertext length,
    /// or -1 with <paramref name="error"/>.
    /// </summary>
    public int Encrypt(ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, out int consumed, out string? error)
    {
        consumed = 0;
        error = null;
        lock (_lock)
        {
            if (_disposed)
            {
                error = "the connection was closed";
                return -1;
            }
            fixed (byte* plain = plaintext)
            fixed (byte* cipher = ciphertext)
            {
                int produced = TakeOutput(cipher, ciphertext.Length);
                // Older output that did not fit goes first, alone.
                if (LibCrypto.Pending(_target->Overflow) > 0) return produced;
                LibCrypto.ErrorClear();
                _target->Buffer = cipher;
                _target->Room = ciphertext.Length;
                _target->Length = produced;
                try
                {
                    // SSL_write encrypts one record straight into the buffer (SendBio); RecordRoom left means it fits.
                    while (consumed < plaintext.Length && _target->Buffer != null && _target->Room - _target->Length >= RecordRoom)
                    {
                        int written = LibSsl.Write(_ssl, plain + consumed, Math.Min(plaintext.Length - consumed, MaxPlaintextRecord));
                        if (written <= 0)
                        {
                            error = LibCrypto.TakeErrors() ?? $"SSL_write failed ({LibSsl.GetError(_ssl, written)})";
                            return -1;
                        }
                        consumed += written;
                    }
                    return _target->Length;
                }
                finally
                {
                    _target->Buffer = null;
                    _target->Room = 0;
                    _target->Length = 0;
                }
            }
        }
    }
}
