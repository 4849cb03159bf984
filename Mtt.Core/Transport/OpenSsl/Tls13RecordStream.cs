using System.Buffers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>
/// A TLS 1.3 connection after OpenSSL's handshake, its records protected here (<see cref="OpenSslSession.TryHandOff"/>):
/// one receive takes all that is waiting, each record is decrypted straight into the reader's buffer when it fits
/// (in place otherwise), and a write seals whole records into one pooled buffer and sends it with one system call.
/// An idle connection holds no buffer: a zero-byte read waits for readability with none. Neither direction allocates
/// once warm.
/// </summary>
internal sealed partial class Tls13RecordStream : AsyncOnlyStream
{
    // A receive takes up to this much: several records of a bulk transfer per system call. Rented while bytes flow.
    private const int ReceiveBufferSize = 64 * 1024;

    private readonly Socket _socket;
    private readonly ShutdownRecord _shutdown;
    private readonly RecordProtection _read;
    private readonly RecordProtection _write;
    private readonly ulong _recordsPerKey;

    // Ciphertext received and not yet opened: _received[_start.._end]. Plaintext opened in place and not yet read:
    // _received[_plainStart.._plainEnd], before _start.
    private byte[]? _received;
    private int _start, _end, _plainStart, _plainEnd;
    private bool _closed;
    private bool _finReceived;
    private string? _failure;
    private int _disposed;
    private static int s_live;

    public Tls13RecordStream(Socket socket, HandOff handOff, ShutdownRecord shutdown, ulong recordsPerKey = DefaultRecordsPerKey)
    {
        _socket = socket;
        _shutdown = shutdown;
        _recordsPerKey = recordsPerKey;
        _read = new RecordProtection(handOff.Suite, handOff.ClientSecret, sequence: 0, encrypt: false);
        _write = new RecordProtection(handOff.Suite, handOff.ServerSecret, handOff.ServerSequence, encrypt: true);
        if (handOff.Unread.Length > 0)
        {
            _received = ArrayPool<byte>.Shared.Rent(Math.Max(ReceiveBufferSize, handOff.Unread.Length));
            handOff.Unread.CopyTo(_received, 0);
            _end = handOff.Unread.Length;
        }
        Interlocked.Increment(ref s_live);
    }

    /// <summary>Record layers made and not yet disposed, in the whole process; for the test that no connection leaks one.</summary>
    internal static int Live => Volatile.Read(ref s_live);

    public override ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        var step = ReadBuffered(destination.Span, out int count);
        SendAnswers();
        return step switch
        {
            RecordStep.Delivered => ValueTask.FromResult(count),
            RecordStep.Closed => ValueTask.FromResult(_shutdown.ReadEnded(destination.Length)),
            RecordStep.Failed => ValueTask.FromException<int>(ReadFailed()),
            _ => ReceiveThenReadAsync(destination, cancellationToken),
        };
    }

    /// <summary>
    /// What can be read without the socket: Delivered (with the count; 0 for a zero-byte read when data is ready),
    /// Closed, Failed, or NeedBytes.
    /// </summary>
    private RecordStep ReadBuffered(Span<byte> destination, out int count)
    {
        count = 0;
        while (true)
        {
            if (_failure is not null) return RecordStep.Failed;
            if (_plainEnd > _plainStart)
            {
                count = Math.Min(destination.Length, _plainEnd - _plainStart);
                _received.AsSpan(_plainStart, count).CopyTo(destination);
                _plainStart += count;
                ReturnIfEmpty();
                return RecordStep.Delivered;
            }
            if (_closed) return RecordStep.Closed;
            // A zero-byte read asks only whether bytes are ready: a whole record is taken as yes without opening it.
            if (destination.IsEmpty) return HasWholeRecord() ? RecordStep.Delivered : RecordStep.NeedBytes;
            var step = OpenRecords(destination, out count);
            switch (step)
            {
                case RecordStep.Delivered:
                    ReturnIfEmpty();
                    return step;
                case RecordStep.Closed:
                    ReturnIfEmpty();
                    continue;
                case RecordStep.NeedBytes when _finReceived:
                    // The client's FIN, even inside a record: the end, as OpenSSL's engine reads it
                    // (SSL_OP_IGNORE_UNEXPECTED_EOF), once every whole record before it is read.
                    _closed = true;
                    continue;
                case RecordStep.NeedBytes:
                case RecordStep.Failed:
                    return step;
                default:
                    continue;
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReceiveThenReadAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        while (true)
        {
            int received;
            try
            {
                if (destination.IsEmpty)
                {
                    // Readiness only, with no buffer: the read with a buffer that follows receives.
                    await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                    return 0;
                }
                var room = ReceiveRoom();
                received = await _socket.ReceiveAsync(room, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e) when (_shutdown.Failed(TransportShutdownKind.ReadFailed, e))
            {
                throw;
            }
            catch (SocketException e)
            {
                throw new IOException(e.Message, e);
            }
            if (received == 0) _finReceived = true;
            _end += received;
            var step = ReadBuffered(destination.Span, out int count);
            SendAnswers();
            switch (step)
            {
                case RecordStep.Delivered:
                    return count;
                case RecordStep.Closed:
                    return _shutdown.ReadEnded(destination.Length);
                case RecordStep.Failed:
                    throw ReadFailed();
            }
        }
    }

    // Where the next receive goes: after what is buffered, the partial record moved to the front when the tail is short.
    private Memory<byte> ReceiveRoom()
    {
        if (_received is null)
        {
            _received = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
            _start = _end = _plainStart = _plainEnd = 0;
        }
        else if (_received.Length - _end < MaxRecord && _start > 0)
        {
            _received.AsSpan(_start, _end - _start).CopyTo(_received);
            _end -= _start;
            _start = _plainStart = _plainEnd = 0;
        }
        return _received.AsMemory(_end);
    }

    // Nothing waiting in the buffer (no plaintext, no partial record): give it back, so an idle connection holds none.
    private void ReturnIfEmpty()
    {
        if (_received is null || _plainEnd > _plainStart || _end > _start) return;
        var buffer = _received;
        _received = null;
        _start = _end = _plainStart = _plainEnd = 0;
        ArrayPool<byte>.Shared.Return(buffer);
    }

    private IOException ReadFailed()
    {
        var failure = new IOException(_failure);
        _shutdown.Failed(TransportShutdownKind.ReadFailed, failure);
        return failure;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            // The keys go now (a read or write still running fails with ObjectDisposedException, reported as the
            // end); a receive buffer still held is left to the collector, since a read may still be using it.
            _read.Dispose();
            _write.Dispose();
            Interlocked.Decrement(ref s_live);
        }
        base.Dispose(disposing);
    }
}
