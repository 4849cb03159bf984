using System.Buffers;
using System.Net.Sockets;

namespace Mtt.Core.Transport;

/// <summary>
/// The stream under the server's <see cref="System.Net.Security.SslStream"/> during the TLS handshake. It hands
/// the handshake whole TLS records only, and holds a handshake slot (<see cref="TunnelServerOptions.MaxHandshakes"/>)
/// only from the moment a whole record has arrived until the handshake asks for bytes that have not: the slot
/// counts handshakes being computed, never peers being waited for. A silent peer costs a zero-byte receive (no
/// buffer); a peer that dripped part of a record costs one buffer of at most one record. Once
/// <see cref="EndHandshake"/> is called it passes reads and writes straight through.
/// </summary>
internal sealed class TlsRecordGate : AsyncOnlyStream
{
    // RFC 8446 section 5.1 and RFC 5246 section 6.2: a record is a 5-byte header (type, version, length) and at
    // most 2^14 + 2048 bytes of fragment (TLS 1.2 ciphertext; TLS 1.3 allows less).
    private const int RecordHeaderLength = 5;
    private const int MaxFragmentLength = (1 << 14) + 2048;
    internal const int MaxRecordLength = RecordHeaderLength + MaxFragmentLength;

    private readonly Socket _socket;
    private readonly NetworkStream _inner;
    private readonly SemaphoreSlim _slots;
    // Bytes received and not yet handed on: [_start, _end); the first _ready of them are whole records. Rented only
    // while a record is partly here, returned as soon as everything was handed on.
    private byte[]? _buffer;
    private int _start;
    private int _end;
    private int _ready;
    private bool _holdsSlot;
    private bool _gating = true;

    /// <param name="inner">The socket as a stream: what passes through once the handshake is over, and every write.</param>
    public TlsRecordGate(Socket socket, NetworkStream inner, SemaphoreSlim slots)
    {
        _socket = socket;
        _slots = slots;
        _inner = inner;
    }

    /// <summary>Whether this connection holds a handshake slot now; for tests.</summary>
    internal bool HoldsSlot => _holdsSlot;

    /// <summary>The handshake is over (call only when no read is in progress): the slot goes back, reads and writes pass through.</summary>
    public void EndHandshake()
    {
        _gating = false;
        ReleaseSlot();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (_gating) return ReadRecordsAsync(destination, cancellationToken);
        // After the handshake: straight through, with no state machine of ours on the relay's reads.
        if (_buffer is null) return _inner.ReadAsync(destination, cancellationToken);
        // Bytes that came behind the last handshake record (a TLS 1.3 client may send its request with its Finished) go first.
        if (destination.IsEmpty) return ValueTask.FromResult(0);
        _ready = _end - _start;
        return ValueTask.FromResult(HandOn(destination));
    }

    private async ValueTask<int> ReadRecordsAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (destination.IsEmpty) return 0;
        while (true)
        {
            if (_ready == 0) _ready = WholeRecords();
            if (_ready > 0)
            {
                // Whole records are CPU work: they wait for a slot (within the handshake timeout, which cancels the wait).
                if (!_holdsSlot)
                {
                    await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                    _holdsSlot = true;
                }
                // SslStream computes the handshake on the thread this read returns on: the pool, not a socket engine's
                // thread (inline completions), whose every socket would wait for it.
                await ThreadPoolHop.OffSocketThread;
                return HandOn(destination);
            }

            // Nothing whole to hand on: what comes next waits for the peer, which must not hold a slot.
            ReleaseSlot();
            if (_buffer is null)
            {
                // Readiness first, with no buffer: a silent connection holds none.
                await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                _buffer = ArrayPool<byte>.Shared.Rent(MaxRecordLength);
                _start = _end = 0;
            }
            else if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }
            // Never more than one record's room: the header check below marks anything longer as ready.
            int received = await _socket.ReceiveAsync(_buffer.AsMemory(_end, MaxRecordLength - _end), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (received == 0)
            {
                // The peer closed: what it sent goes on as it is, and SslStream reports the truncated handshake.
                if (_end == _start)
                {
                    ReturnBuffer();
                    return 0;
                }
                _ready = _end - _start;
                continue;
            }
            _end += received;
        }
    }

    /// <summary>
    /// How many bytes from <see cref="_start"/> are whole records. Bytes that are not a TLS record header at all
    /// (an HTTP request on the TLS port, an SSL 2 hello, a length beyond the maximum) count as ready too:
    /// SslStream refuses them at once, which takes a slot for a moment rather than a wait for more bytes.
    /// </summary>
    private int WholeRecords()
    {
        if (_buffer is null) return 0;
        var bytes = _buffer.AsSpan(_start, _end - _start);
        int position = 0;
        while (position < bytes.Length)
        {
            // RFC 8446 appendix B.1: change_cipher_spec (20), alert (21), handshake (22), application_data (23);
            // heartbeat (24, RFC 6520) is still a record. The version's major byte is 3 for SSL 3 to TLS 1.3.
            if (bytes[position] is < 20 or > 24) return bytes.Length;
            if (bytes.Length - position < RecordHeaderLength) break;
            if (bytes[position + 1] != 3) return bytes.Length;
            int length = (bytes[position + 3] << 8) | bytes[position + 4];
            if (length > MaxFragmentLength) return bytes.Length;
            if (bytes.Length - position < RecordHeaderLength + length) break;
            position += RecordHeaderLength + length;
        }
        return position;
    }

    private int HandOn(Memory<byte> destination)
    {
        int count = Math.Min(_ready, destination.Length);
        _buffer.AsSpan(_start, count).CopyTo(destination.Span);
        _start += count;
        _ready -= count;
        if (_start == _end) ReturnBuffer();
        return count;
    }

    private void ReleaseSlot()
    {
        if (!_holdsSlot) return;
        _holdsSlot = false;
        _slots.Release();
    }

    private void ReturnBuffer()
    {
        if (_buffer is null) return;
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = null;
        _start = _end = _ready = 0;
    }

    // Writes pass through: the gate holds back reads only (SslStream reads it asynchronously, as AsyncOnlyStream requires).
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) => _inner.WriteAsync(source, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override void Flush() => _inner.Flush();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            ReleaseSlot();
            ReturnBuffer();
            _inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
