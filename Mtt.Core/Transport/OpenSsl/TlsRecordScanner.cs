namespace Mtt.Core.Transport.OpenSsl;

/// <summary>
/// Follows the record boundaries of a handshake's incoming bytes as they arrive in pieces, so that the handshake is
/// computed (and holds a slot) only when a whole record is there: the OpenSSL engine's counterpart of
/// <see cref="TlsRecordGate"/>. Bytes that are not a TLS record header (an HTTP request on the TLS port, an SSL 2
/// hello, a length beyond the maximum) mark the stream <see cref="Malformed"/>, so OpenSSL refuses it at once.
/// </summary>
internal struct TlsRecordScanner
{
    private int _headerSeen;
    private int _length;
    private int _bodyLeft;

    /// <summary>The bytes are not TLS records; every later call reports them ready.</summary>
    public bool Malformed { get; private set; }

    /// <summary>Takes the next bytes of the stream; returns how many records they completed (or 1 once malformed).</summary>
    public int Take(ReadOnlySpan<byte> bytes)
    {
        if (Malformed) return 1;
        int completed = 0;
        int position = 0;
        while (position < bytes.Length)
        {
            if (_bodyLeft > 0)
            {
                int take = Math.Min(_bodyLeft, bytes.Length - position);
                position += take;
                _bodyLeft -= take;
                if (_bodyLeft == 0) completed++;
                continue;
            }
            byte value = bytes[position++];
            // RFC 8446 section 5.1, appendix B.1: content type 20-24, then a version whose major byte is 3, then the length.
            switch (_headerSeen)
            {
                case 0 when value is < 20 or > 24:
                case 1 when value != 3:
                    Malformed = true;
                    return 1;
                case 3:
                    _length = value << 8;
                    break;
                case 4:
                    _length |= value;
                    if (_length > TlsRecordGate.MaxRecordLength - 5)
                    {
                        Malformed = true;
                        return 1;
                    }
                    _headerSeen = 0;
                    _bodyLeft = _length;
                    if (_bodyLeft == 0) completed++;
                    continue;
            }
            _headerSeen++;
        }
        return completed;
    }
}
