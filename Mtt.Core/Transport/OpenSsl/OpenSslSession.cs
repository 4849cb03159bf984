using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>
/// One connection's SSL object and its two BIOs, behind a lock: OpenSSL's SSL is not safe for a read and a write at
/// once, and the relay reads and writes from two tasks. Every call here is synchronous and never waits for the peer
/// (the socket is non-blocking); the async side (<see cref="OpenSslStream"/>, <see cref="OpenSslHandshake"/>) waits for
/// readiness between calls, with the lock released.
/// <para>
/// The read BIO is a memory BIO during the handshake, fed whole records by <see cref="OpenSslHandshake"/> (so a
/// handshake slot is held only while there is something to compute); once it is empty after the handshake it is
/// replaced by a socket BIO on the connection's descriptor, and OpenSSL's read-ahead takes all that is waiting (many
/// records) in one recv, decrypting straight into the reader's buffer. The write BIO (<see cref="SendBio"/>) puts each
/// record into the buffer the stream sends next: OpenSSL cannot wait for a full socket to drain, so ciphertext is
/// sent by the socket's own async send, which is the backpressure.
/// </para>
/// </summary>
internal sealed unsafe partial class OpenSslSession : IDisposable
{
    private readonly Lock _lock = new();
    private readonly SslHandle _handle;
    private readonly IntPtr _ssl;
    private readonly Socket _socket;
    // Owned by the SSL object (the read BIO) or by the handle (the target); valid while it is, which the lock and
    // _disposed guarantee.
    private IntPtr _readBio;
    private readonly SendBio.SendTarget* _target;
    private bool _readsSocket;
    private bool _disposed;
    private static int s_live;

    /// <summary>Sessions made and not yet disposed, in the whole process; for the test that no connection leaks its SSL.</summary>
    internal static int Live => Volatile.Read(ref s_live);

    public OpenSslSession(OpenSslContext context, Socket socket)
    {
        _socket = socket;
        _ssl = LibSsl.New(context.Handle);
        if (_ssl == IntPtr.Zero) throw new OutOfMemoryException($"SSL_new failed: {LibCrypto.TakeErrors()}");
        _target = (SendBio.SendTarget*)NativeMemory.AllocZeroed((nuint)sizeof(SendBio.SendTarget));
        // From here the handle frees the SSL, the target and its overflow, whatever fails below.
        _handle = new SslHandle(_ssl, _target);
        _target->Overflow = LibCrypto.BioNew(LibCrypto.BioMemoryMethod());
        _readBio = LibCrypto.BioNew(LibCrypto.BioMemoryMethod());
        IntPtr writeBio = _target->Overflow == IntPtr.Zero ? IntPtr.Zero : SendBio.New(_target);
        if (_readBio == IntPtr.Zero || writeBio == IntPtr.Zero)
        {
            if (_readBio != IntPtr.Zero) LibCrypto.BioFree(_readBio);
            if (writeBio != IntPtr.Zero) LibCrypto.BioFree(writeBio);
            _handle.Dispose();
            throw new OutOfMemoryException("BIO_new failed");
        }
        LibSsl.SetBio(_ssl, _readBio, writeBio);
        LibSsl.SetAcceptState(_ssl);
        // Until the handshake is done, OpenSSL reads a record at a time, so that what follows the client's Finished
        // stays in the BIO for the record layer that takes over (TryHandOff).
        LibSsl.SetReadAhead(_ssl, 0);
        Interlocked.Increment(ref s_live);
    }

    /// <summary>Hands received handshake bytes to OpenSSL (a memory BIO copies them).</summary>
    public void Feed(ReadOnlySpan<byte> bytes)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            fixed (byte* start = bytes)
            {
                if (LibCrypto.BioWrite(_readBio, start, bytes.Length) != bytes.Length) throw new OutOfMemoryException("BIO_write failed");
            }
        }
    }

    /// <summary>Runs the handshake on what was fed; <paramref name="error"/> is OpenSSL's reason when it fails.</summary>
    public HandshakeStep Handshake(out string? error)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            error = null;
            LibCrypto.ErrorClear();
            int result;
            using (TrafficSecretLog.Capturing(this)) result = LibSsl.DoHandshake(_ssl);
            if (result == 1) return HandshakeStep.Done;
            int code = LibSsl.GetError(_ssl, result);
            if (code == LibSsl.ErrorWantRead) return HandshakeStep.NeedMore;
            error = LibCrypto.TakeErrors() ?? (code == LibSsl.ErrorSyscall ? "the connection ended" : $"SSL_get_error {code}");
            return HandshakeStep.Failed;
        }
    }

    /// <summary>Ciphertext waiting to be sent (handshake messages, alerts, a KeyUpdate answer).</summary>
    public int PendingOutput
    {
        get
        {
            lock (_lock) return _disposed ? 0 : LibCrypto.Pending(_target->Overflow);
        }
    }

    /// <summary>Takes up to <paramref name="destination"/>'s length of the pending ciphertext.</summary>
    public int TakeOutput(Span<byte> destination)
    {
        lock (_lock)
        {
            if (_disposed) return 0;
            fixed (byte* start = destination) return TakeOutput(start, destination.Length);
        }
    }

    private int TakeOutput(byte* destination, int room)
    {
        int pending = LibCrypto.Pending(_target->Overflow);
        if (pending == 0 || room == 0) return 0;
        return Math.Max(0, LibCrypto.BioRead(_target->Overflow, destination, Math.Min(pending, room)));
    }

    /// <summary>The negotiated protocol version (0x0303 TLS 1.2, 0x0304 TLS 1.3).</summary>
    public int ProtocolVersion
    {
        get
        {
            lock (_lock) return _disposed ? 0 : LibSsl.Version(_ssl);
        }
    }

    /// <summary>The ALPN protocol chosen, empty when none.</summary>
    public string ApplicationProtocol
    {
        get
        {
            lock (_lock)
            {
                if (_disposed) return "";
                byte* data;
                uint length;
                LibSsl.GetAlpnSelected(_ssl, &data, &length);
                return length == 0 ? "" : System.Text.Encoding.ASCII.GetString(data, (int)length);
            }
        }
    }

    /// <summary>
    /// Frees the connection's record buffers and the overflow BIO's, when nothing is pending in them: an idle
    /// connection then holds only the SSL object. OpenSSL allocates them again at the next record.
    /// </summary>
    public bool ReleaseBuffers()
    {
        lock (_lock)
        {
            if (_disposed) return false;
            if (!_readsSocket && LibCrypto.Pending(_readBio) == 0) SwitchToSocket();
            if (LibCrypto.Pending(_target->Overflow) == 0)
            {
                // The handshake's flights grew the overflow's buffer; a fresh BIO holds none.
                IntPtr fresh = LibCrypto.BioNew(LibCrypto.BioMemoryMethod());
                if (fresh != IntPtr.Zero)
                {
                    LibCrypto.BioFree(_target->Overflow);
                    _target->Overflow = fresh;
                }
            }
            return LibSsl.FreeBuffers(_ssl) == 1;
        }
    }

    private void SwitchToSocket()
    {
        // BIO_NOCLOSE: the Socket owns the descriptor. SSL_set0_rbio frees the memory BIO.
        IntPtr socketBio = LibSsl.BioNewSocket((int)_socket.SafeHandle.DangerousGetHandle(), 0);
        if (socketBio == IntPtr.Zero) throw new OutOfMemoryException("BIO_new_socket failed");
        LibSsl.SetReadBio(_ssl, socketBio);
        _readBio = socketBio;
        _readsSocket = true;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            Forget(ref _clientSecret);
            Forget(ref _serverSecret);
            _handle.Dispose();
            Interlocked.Decrement(ref s_live);
        }
    }
}
