using System.Buffers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>
/// A TLS 1.3 connection after OpenSSL's handshake, its records protected here (<see cref="OpenSslSession.TryHandOff"/>):
/// one receive takes all that is waiting, each record is decrypted straight into the reader's buffer when it fits
/// (in place otherwise), and a write seals whole records into one pooled buffer and sends it with one system call.
/// An idle connection holds no buffer: a zero-byte read waits for readability with none; one stalled inside a record
/// holds only the part it has. Neither direction allocates once warm.
/// </summary>
internal sealed partial class Tls13RecordStream : AsyncOnlyStream
{
    // A receive takes up to this much: several records of a bulk transfer per system call. Rented while bytes flow,
    // never while a read waits for the client.
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
            // What arrived with the client's Finished, perhaps part of a record: held as it is, grown by the first receive.
            _received = ArrayPool<byte>.Shared.Rent(handOff.Unread.Length);
            handOff.Unread.CopyTo(_received, 0);
            _end = handOff.Unread.Length;
        }
        Interlocked.Increment(ref s_live);
    }

    /// <summary>Record layers made and not yet disposed, in the whole process; for the test that no connection leaks one.</summary>
    internal static int Live => Volatile.Read(ref s_live);

    /// <summary>The receive buffer's length (0 when none is held); for the tests of what a waiting connection holds.</summary>
    internal int ReceiveBufferLength => _received?.Length ?? 0;

    /// <summary>Bytes received and not yet opened (part of a record while it waits); for tests.</summary>
    internal int UnopenedBytes => _end - _start;

    /// <summary>Called as a read starts waiting for the client; for tests, which look at what it holds then.</summary>
    internal Action? WaitingForClient { get; set; }

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
            // A zero-byte read asks whether a read would find something: a whole record (taken as yes without opening
            // it, so the read that follows decrypts it straight into its buffer), a header that read refuses, or the
            // client's end. Part of a record is no: the reader's buffer must not wait for the rest of it.
            if (destination.IsEmpty) return HasRecordToOpen() || _finReceived ? RecordStep.Delivered : RecordStep.NeedBytes;
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

    /// <summary>
    /// Receives until a read finds something. Every receive goes after a zero-byte one, which completes at once while
    /// bytes flow: the receive that would wait is known then, before any buffer is committed to it, and only then is
    /// the receive buffer cut down to the part of a record it holds (<see cref="HoldOnlyUnopenedBytes"/>). A client
    /// stalled inside a record so costs the bytes it sent, not 64 KiB, and a zero-byte read (the pipes' wait) completes
    /// only once a whole record is in, so the reader's buffer does not wait for the rest of one either.
    /// </summary>
    /// <remarks>
    /// Why a zero-byte receive before each receive rather than a rule on the sender's pace: the pipes already make a
    /// zero-byte read before every read they make with nothing buffered, which was a zero-byte receive whenever part of
    /// a record was left (almost every receive of a bulk transfer); this moves that receive, it adds none there. A rule on
    /// the last receive's size ("a slow sender") is one a client can game: a burst of 64 KiB ending inside a record,
    /// then silence, would hold the 64 KiB. The cost is in the waits: the part of a record (under 16.3 KiB) copied out
    /// and back, about a microsecond against a wake-up's tens (docs/benchmarks.md, "A client stalled inside a record").
    /// </remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReceiveThenReadAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        while (true)
        {
            int received;
            try
            {
                var ready = _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken);
                if (!ready.IsCompleted)
                {
                    HoldOnlyUnopenedBytes();
                    WaitingForClient?.Invoke();
                }
                await ready.ConfigureAwait(false);
                // Readable now: this receive completes at once, with all that is waiting.
                received = await _socket.ReceiveAsync(ReceiveRoom(), SocketFlags.None, cancellationToken).ConfigureAwait(false);
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

    // Where the next receive goes: after what is buffered, in the large buffer (rented, or grown from what a wait held),
    // the partial record moved to the front when the tail is short.
    private Memory<byte> ReceiveRoom()
    {
        if (_received is null)
        {
            _received = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
            _start = _end = _plainStart = _plainEnd = 0;
        }
        else if (_received.Length < ReceiveBufferSize)
        {
            Move(ArrayPool<byte>.Shared.Rent(ReceiveBufferSize));
        }
        else if (_received.Length - _end < MaxRecord && _start > 0)
        {
            _received.AsSpan(_start, _end - _start).CopyTo(_received);
            _end -= _start;
            _start = _plainStart = _plainEnd = 0;
        }
        return _received.AsMemory(_end);
    }

    /// <summary>
    /// Before a wait for the client: the large buffer goes back, and the bytes not yet opened (part of a record, or
    /// none) are held in one just large enough (the pool's next size: at most twice them). Only called with no
    /// plaintext waiting, since a read delivers that before it receives.
    /// </summary>
    private void HoldOnlyUnopenedBytes()
    {
        if (_received is null || _received.Length < ReceiveBufferSize) return;
        int unopened = _end - _start;
        if (unopened > 0)
        {
            Move(ArrayPool<byte>.Shared.Rent(unopened));
            return;
        }
        ArrayPool<byte>.Shared.Return(_received);
        _received = null;
        _start = _end = _plainStart = _plainEnd = 0;
    }

    // The bytes not yet opened move to the front of another buffer; the current one goes back to the pool.
    private void Move(byte[] into)
    {
        var from = _received!;
        int unopened = _end - _start;
        from.AsSpan(_start, unopened).CopyTo(into);
        _received = into;
        _start = _plainStart = _plainEnd = 0;
        _end = unopened;
        ArrayPool<byte>.Shared.Return(from);
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
