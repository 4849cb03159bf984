using System.Buffers;

namespace Mtt.Core.Mux;

/// <summary>
/// The session's fixed receive buffer: the WebSocket payload is decoded into its free tail and the
/// smux parser consumes from its head. Fixed size, so a session's unparsed input is bounded whatever
/// the client sends; what is left unconsumed (a partial header, data waiting for room) moves to the
/// front when the tail runs out. The array is rented when payload arrives and returned whenever the
/// buffer is empty again, so an idle session holds none.
/// </summary>
internal sealed class SmuxReceiveBuffer : IBufferWriter<byte>, IDisposable
{
    private readonly int _size;
    private byte[] _buffer = [];
    private int _start;
    private int _end;

    public SmuxReceiveBuffer(int size) => _size = size;

    public ReadOnlySpan<byte> Readable => _buffer.AsSpan(_start, _end - _start);

    public int ReadableLength => _end - _start;

    /// <summary>Room for the next receive, after moving unread bytes to the front if that makes more.</summary>
    public int PrepareFree()
    {
        if (_start == _end)
        {
            _start = _end = 0;
            Release();
            return _size;
        }
        else if (_start > 0 && _end == _size)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        return _size - _end;
    }

    public void Consume(int count) => _start += count;

    public void Advance(int count) => _end += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Rent();
        return _buffer.AsMemory(_end, _size - _end);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Rent();
        return _buffer.AsSpan(_end, _size - _end);
    }

    public void Dispose() => Release();

    private void Rent()
    {
        if (_buffer.Length == 0) _buffer = ArrayPool<byte>.Shared.Rent(_size);
    }

    private void Release()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }
}
