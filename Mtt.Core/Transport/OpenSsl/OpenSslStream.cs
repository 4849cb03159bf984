using System.Buffers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>
/// A TLS connection after its handshake, as a stream the transport's pipes read and write. A read decrypts what is
/// already there and returns at once; only when nothing is does it wait, with no buffer, for the socket to become
/// readable (a zero-byte receive), then decrypt again: one wake-up per burst of records, not per record. A write
/// encrypts whole records into one pooled buffer and sends it with one system call. Neither allocates once warm.
/// </summary>
internal sealed class OpenSslStream : AsyncOnlyStream
{
    // Ciphertext per send: four full records, a 64 KiB pipe segment.
    private const int SendBufferSize = 4 * OpenSslSession.RecordRoom;

    private readonly Socket _socket;
    private readonly OpenSslSession _session;
    private readonly ShutdownRecord _shutdown;
    // One sender at a time: the writer, or the reader sending what OpenSSL answered to a record it read. Two sends at
    // once could interleave on the socket, and records out of order are a broken connection.
    private readonly SemaphoreSlim _sending = new(1, 1);

    public OpenSslStream(Socket socket, OpenSslSession session, ShutdownRecord shutdown)
    {
        _socket = socket;
        _session = session;
        _shutdown = shutdown;
    }

    /// <summary>The session, for its negotiated version and ALPN (tests, logs).</summary>
    internal OpenSslSession Session => _session;

    /// <summary>Lets an idle connection hold no record buffers; call only between reads and writes.</summary>
    public bool ReleaseBuffers() => _session.ReleaseBuffers();

    public override ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        var outcome = _session.Read(destination.Span, out int count, out string? error);
        SendAnswers();
        return outcome switch
        {
            ReadOutcome.Data => ValueTask.FromResult(count),
            ReadOutcome.End => ValueTask.FromResult(_shutdown.ReadEnded(destination.Length)),
            ReadOutcome.Failed => ValueTask.FromException<int>(ReadFailed(error)),
            _ => WaitThenReadAsync(destination, cancellationToken),
        };
    }

    private IOException ReadFailed(string? error)
    {
        var failure = error == OpenSslSession.ResetText
            ? new IOException(error, new SocketException((int)SocketError.ConnectionReset))
            : new IOException(error);
        _shutdown.Failed(TransportShutdownKind.ReadFailed, failure);
        return failure;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> WaitThenReadAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                // Readiness only: the socket engine wakes us when bytes (or the end) arrive, and OpenSSL takes them.
                await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e) when (_shutdown.Failed(TransportShutdownKind.ReadFailed, e))
            {
                throw;
            }
            catch (SocketException e)
            {
                throw new IOException(e.Message, e);
            }
            var outcome = _session.Read(destination.Span, out int count, out string? error);
            SendAnswers();
            switch (outcome)
            {
                case ReadOutcome.Data:
                    return count;
                case ReadOutcome.End:
                    return _shutdown.ReadEnded(destination.Length);
                case ReadOutcome.Failed:
                    throw ReadFailed(error);
            }
        }
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) =>
        source.IsEmpty ? default : EncryptAndSendAsync(source, cancellationToken);

    /// <summary>
    /// Sends what OpenSSL wrote while reading (a KeyUpdate answer, the no_renegotiation alert to a TLS 1.2 client asking
    /// to renegotiate, which waits for it) unless a write is under way, which sends it with its own records. Not
    /// awaited: a reader must not wait for the client to make room for its answer.
    /// </summary>
    private void SendAnswers()
    {
        if (_session.PendingOutput > 0 && _sending.Wait(0)) _ = SendAnswersAsync();
    }

    private async Task SendAnswersAsync()
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(SendBufferSize);
        try
        {
            int length;
            while ((length = _session.TakeOutput(buffer)) > 0)
                await _socket.SendAsync(buffer.AsMemory(0, length), SocketFlags.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The connection is ending; the relay's own read or write reports why.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            Released();
        }
    }

    // A reader that found the sender busy left its answer to it: look again once the sender is gone.
    private void Released()
    {
        _sending.Release();
        SendAnswers();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask EncryptAndSendAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
    {
        await _sending.WaitAsync(cancellationToken).ConfigureAwait(false);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(SendBufferSize);
        try
        {
            int offset = 0;
            // Until the input is encrypted and nothing is left behind in the session's overflow (SendBio).
            while (offset < source.Length || _session.PendingOutput > 0)
            {
                int length = _session.Encrypt(source.Span[offset..], buffer, out int consumed, out string? error);
                if (length < 0) throw new IOException(error);
                offset += consumed;
                // A stream socket's send completes when all of it is in the kernel: the peer's reading paces us.
                if (length > 0) await _socket.SendAsync(buffer.AsMemory(0, length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (SocketException e) when (_shutdown.Failed(TransportShutdownKind.WriteFailed, e))
        {
            throw;
        }
        catch (SocketException e)
        {
            throw new IOException(e.Message, e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            Released();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _session.Dispose();
        base.Dispose(disposing);
    }
}
