using System.Buffers;

namespace Mtt.Core.Mux;

/// <summary>
/// The session's fixed receive buffer: the WebSocket payload is decoded into its free tail and the
/// smux parser consumes from its head. Fixed size, so a session's unparsed input is bounded whatever
/// the client sends; what is left unconsumed (a partial header, data waiting for room) moves to the
/// front when the tail runs out.
/// </summary>
internal sealed class SmuxReceiveBuffer : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _start;
    private int _end;

    public SmuxReceiveBuffer(int size) => _buffer = ArrayPool<byte>.Shared.Rent(size);

    public ReadOnlySpan<byte> Readable => _buffer.AsSpan(_start, _end - _start);

    public int ReadableLength => _end - _start;

    /// <summary>Room for the next receive, after moving unread bytes to the front if that makes more.</summary>
    public int PrepareFree()
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_start > 0 && _end == _buffer.Length)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        return _buffer.Length - _end;
    }

    public void Consume(int count) => _start += count;

    public void Advance(int count) => _end += count;

    public Memory<byte> GetMemory(int sizeHint = 0) => _buffer.AsMemory(_end);

    public Span<byte> GetSpan(int sizeHint = 0) => _buffer.AsSpan(_end);

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }
}
