using System.Buffers;

namespace Mtt.Core.Control.Http;

/// <summary>
/// Decodes a chunked request body (RFC 9112 section 7.1) incrementally: give it bytes as they arrive and
/// it writes the chunk data to the output, stopping with <see cref="ChunkedStatus.TooLarge"/> at the
/// first chunk-size line that would take the body past its limit, before that chunk's data is read.
/// Chunk extensions and trailer fields carry nothing the controller uses and are dropped. Pure: no I/O.
/// </summary>
internal struct ChunkedBodyDecoder(long limit)
{
    /// <summary>A chunk-size line is hex digits and optional extensions; a longer one is abuse, not a body.</summary>
    public const int MaxLineBytes = 1024;

    /// <summary>Trailer fields are read and dropped; bounded like a request head.</summary>
    public const int MaxTrailerBytes = 16 * 1024;

    private enum State : byte { Size, Data, DataEnd, Trailer, Done }

    private State _state;
    private long _chunkRemaining;
    private long _total;
    private int _trailerBytes;

    /// <summary>Why the body was <see cref="ChunkedStatus.Malformed"/>.</summary>
    public string? Error { get; private set; }

    /// <summary>Bytes of chunk data decoded so far.</summary>
    public readonly long Total => _total;

    /// <summary>Consumes what it can from <paramref name="input"/>; unread bytes stay for the next call.</summary>
    public ChunkedStatus Decode(ref SequenceReader<byte> input, IBufferWriter<byte> output)
    {
        while (true)
        {
            switch (_state)
            {
                case State.Size:
                {
                    if (!TryReadLine(ref input, out ReadOnlySequence<byte> line, out bool bareLf))
                        return input.Remaining > MaxLineBytes ? Fail("chunk-size line too long") : ChunkedStatus.NeedMoreData;
                    if (line.Length > MaxLineBytes) return Fail("chunk-size line too long");
                    if (bareLf) return Fail("chunk-size line ended by a bare LF");
                    if (!TryParseChunkSize(line, out long size)) return Fail("invalid chunk size");
                    if (size == 0) { _state = State.Trailer; break; }
                    if (size > limit - _total) return ChunkedStatus.TooLarge;
                    _chunkRemaining = size;
                    _state = State.Data;
                    break;
                }
                case State.Data:
                {
                    long take = Math.Min(_chunkRemaining, input.Remaining);
                    if (take == 0) return ChunkedStatus.NeedMoreData;
                    foreach (var segment in input.UnreadSequence.Slice(0, take)) output.Write(segment.Span);
                    input.Advance(take);
                    _chunkRemaining -= take;
                    _total += take;
                    if (_chunkRemaining == 0) _state = State.DataEnd;
                    break;
                }
                case State.DataEnd:
                    // A first byte other than CR already fails, so a bare LF here is refused without waiting.
                    if (input.Remaining == 0 || (input.Remaining == 1 && input.IsNext((byte)'\r'))) return ChunkedStatus.NeedMoreData;
                    if (!input.IsNext("\r\n"u8, advancePast: true)) return Fail("chunk data not followed by CRLF");
                    _state = State.Size;
                    break;
                case State.Trailer:
                {
                    if (!TryReadLine(ref input, out ReadOnlySequence<byte> line, out bool bareLf))
                        return _trailerBytes + input.Remaining > MaxTrailerBytes ? Fail("trailer section too long") : ChunkedStatus.NeedMoreData;
                    _trailerBytes += (int)Math.Min(line.Length + 2, MaxTrailerBytes + 1);
                    if (_trailerBytes > MaxTrailerBytes) return Fail("trailer section too long");
                    if (bareLf) return Fail("trailer line ended by a bare LF");
                    if (line.IsEmpty) _state = State.Done;
                    break;
                }
                case State.Done:
                    return ChunkedStatus.Done;
            }
        }
    }

    // A line ends at the first LF. Chunked framing requires the CR before it (RFC 9112 section 7.1): Go
    // refuses a bare LF there since CVE-2025-22871, as a proxy in front may split the body differently.
    // Reading to LF rather than to CRLF is what lets a bare LF be refused at once instead of timing out.
    private static bool TryReadLine(ref SequenceReader<byte> input, out ReadOnlySequence<byte> line, out bool bareLf)
    {
        bareLf = false;
        if (!input.TryReadTo(out line, (byte)'\n')) return false;
        if (line.IsEmpty || line.Slice(line.Length - 1).FirstSpan[0] != (byte)'\r') bareLf = true;
        else line = line.Slice(0, line.Length - 1);
        return true;
    }

    private ChunkedStatus Fail(string error)
    {
        Error = error;
        return ChunkedStatus.Malformed;
    }

    // RFC 9112 section 7.1: chunk-size = 1*HEXDIG, then optional chunk-ext = *( BWS ";" ... ).
    private readonly bool TryParseChunkSize(ReadOnlySequence<byte> line, out long size)
    {
        size = 0;
        Span<byte> copy = stackalloc byte[MaxLineBytes];
        line.CopyTo(copy);
        ReadOnlySpan<byte> text = copy[..(int)line.Length];

        int digits = 0;
        while (digits < text.Length && char.IsAsciiHexDigit((char)text[digits]))
        {
            // Saturate just past the limit: a huge size is too large, not malformed.
            size = Math.Min(size * 16 + HexValue(text[digits]), limit + 1);
            digits++;
        }
        if (digits == 0) return false;

        ReadOnlySpan<byte> rest = text[digits..].TrimStart(" \t"u8);
        return rest.IsEmpty || rest[0] == (byte)';';
    }

    private static int HexValue(byte c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
