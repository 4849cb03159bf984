using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace Mtt.Core.Transport;

/// <summary>
/// A connected socket, bare or under TLS, as a pair of pipes. A flush returns once the bytes are in the
/// kernel (or encrypted and there), so a close right after it loses nothing, and a peer that stops
/// reading stops our flushes: that is the backpressure. Reads are zero-byte reads first, so an idle
/// connection holds no receive buffer.
/// </summary>
internal sealed class SocketTransport : IAsyncDisposable
{
    // Buffers are rented only while bytes flow (zero-byte reads, writers return segments on flush), so
    // their size costs an idle connection nothing. Large ones mean few system calls and, under TLS,
    // full 16 KiB records: each written segment becomes at least one record and one send, and 4 KiB
    // segments made the server spend twice the CPU per byte of a plain TLS relay.
    private const int ReadBufferSize = 64 * 1024;
    private const int MinimumReadSize = 8 * 1024;
    private const int MinimumWriteBuffer = 64 * 1024;

    // Immutable, so every connection shares one of each rather than holding its own two (issue 14: what an idle
    // tunnel holds).
    private static readonly StreamPipeReaderOptions s_readerOptions = new(bufferSize: ReadBufferSize, minimumReadSize: MinimumReadSize, leaveOpen: true, useZeroByteReads: true);
    private static readonly StreamPipeWriterOptions s_writerOptions = new(minimumBufferSize: MinimumWriteBuffer, leaveOpen: true);

    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly ShutdownRecord _shutdown;

    private SocketTransport(Socket socket, Stream stream, ShutdownRecord shutdown)
    {
        _socket = socket;
        _stream = stream;
        _shutdown = shutdown;
        RemoteEndPoint = socket.RemoteEndPoint as IPEndPoint;
        Input = PipeReader.Create(stream, s_readerOptions);
        Output = PipeWriter.Create(stream, s_writerOptions);
    }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    public IPEndPoint? RemoteEndPoint { get; }

    /// <summary>
    /// The TLS 1.3 record layer under <see cref="Output"/> on the OpenSSL engine, for gathering writes that seal data from
    /// where it lies (<see cref="OpenSsl.Tls13RecordStream.WriteFramedAsync"/>); null on every other transport.
    /// </summary>
    internal OpenSsl.Tls13RecordStream? RecordLayer => _stream as OpenSsl.Tls13RecordStream;

    /// <summary>Why the connection ended, as its socket first reported it (or <see cref="TransportShutdownKind.ClosedByUs"/> once disposed with no other end seen).</summary>
    public TransportShutdownKind ShutdownKind => _shutdown.Kind;

    /// <summary>The socket's error when <see cref="ShutdownKind"/> is a failed read or write (ConnectionReset, say).</summary>
    public SocketError ShutdownError => _shutdown.Error;

    public static SocketTransport CreatePlain(Socket socket)
    {
        var shutdown = new ShutdownRecord();
        return new(socket, new ObservedNetworkStream(socket, shutdown), shutdown);
    }

    /// <summary>Runs the server side of the TLS handshake; throws on failure or cancellation, leaving the socket to the caller.</summary>
    /// <param name="handshakeSlots">
    /// When given, the handshake holds one of these only while it has whole TLS records to compute on
    /// (<see cref="TlsRecordGate"/>), never while it waits for the peer.
    /// </param>
    public static async Task<SocketTransport> CreateTlsAsync(Socket socket, SslStreamCertificateContext certificate, SemaphoreSlim? handshakeSlots, CancellationToken cancellationToken)
    {
        var shutdown = new ShutdownRecord();
        var observed = new ObservedNetworkStream(socket, shutdown);
        var gate = handshakeSlots is null ? null : new TlsRecordGate(socket, observed, handshakeSlots);
        var ssl = new SslStream(gate ?? (Stream)observed, leaveInnerStreamOpen: false);
        try
        {
            var options = new SslServerAuthenticationOptions
            {
                ServerCertificateContext = certificate,
                ClientCertificateRequired = false,
                ApplicationProtocols = [SslApplicationProtocol.Http11],
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            };
            await ssl.AuthenticateAsServerAsync(options, cancellationToken).ConfigureAwait(false);
            gate?.EndHandshake();
            // Nothing reads or writes the stream yet: the one safe moment to reach its SSL object.
            SslStreamTickets.TryLimit(ssl);
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return new SocketTransport(socket, ssl, shutdown);
    }

    /// <summary>
    /// The same handshake on the OpenSSL engine (<see cref="TlsEngine.OpenSsl"/>): libssl called directly, with the
    /// same certificate, versions, ALPN and handshake slots, and the same exceptions on failure.
    /// </summary>
    public static async Task<SocketTransport> CreateOpenSslAsync(Socket socket, SslStreamCertificateContext certificate, SemaphoreSlim? handshakeSlots, CancellationToken cancellationToken)
    {
        var shutdown = new ShutdownRecord();
        var stream = await OpenSsl.OpenSslHandshake.AcceptAsync(socket, certificate, handshakeSlots, shutdown, cancellationToken).ConfigureAwait(false);
        return new SocketTransport(socket, stream, shutdown);
    }

    /// <summary>
    /// Lets an idle TLS connection hold no OpenSSL record buffers (<see cref="OpenSslRecordBuffers"/>).
    /// Call only between reads and writes: after the upgrade was read and its answer flushed. A TLS 1.3 connection on
    /// the OpenSSL engine (<see cref="OpenSsl.Tls13RecordStream"/>) has none: it gives its receive buffer back itself
    /// whenever it is empty.
    /// </summary>
    public void ReleaseTlsBuffers()
    {
        if (_stream is SslStream ssl) OpenSslRecordBuffers.TryRelease(ssl);
        else if (_stream is OpenSsl.OpenSslStream openSsl) openSsl.ReleaseBuffers();
    }

    /// <summary>Tells the peer we will send no more (TCP FIN); reading goes on.</summary>
    public void ShutdownSend()
    {
        try { _socket.Shutdown(SocketShutdown.Send); }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
    }

    /// <summary>
    /// After the input ended: true when the peer reset the connection rather than closed it. The kernel
    /// reports a reset once, to whichever read or write meets it first, so a read after a write took it
    /// sees a plain end of stream; a zero-byte send does nothing on a live connection and still fails
    /// after a reset (or after our own <see cref="ShutdownSend"/>, which the caller accounts for).
    /// </summary>
    public bool WasReset()
    {
        try
        {
            _socket.Send(ReadOnlySpan<byte>.Empty);
            return false;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return true;
        }
    }

    /// <summary>
    /// Whether the peer's FIN is waiting unread: under TLS the reader stops at the peer's close_notify and
    /// never reads the socket's end of stream, though the peer did close. One poll, at the end only.
    /// </summary>
    private bool PeerHasClosed()
    {
        try
        {
            return _socket.Poll(0, SelectMode.SelectRead) && _socket.Available == 0;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>
    /// Drops the connection. Whatever was meant to arrive has been flushed before this; what is still
    /// buffered belongs to a peer that stopped reading, and closing the socket first keeps the
    /// writer's completion from waiting on it.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        _shutdown.Ended(PeerHasClosed() ? TransportShutdownKind.PeerClosed : TransportShutdownKind.ClosedByUs);
        _socket.Dispose();
        try
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
        }
        await Input.CompleteAsync().ConfigureAwait(false);
        try
        {
            await Output.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or NotSupportedException)
        {
        }
    }
}
