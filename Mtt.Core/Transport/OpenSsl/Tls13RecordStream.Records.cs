using System.Buffers.Binary;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>Opening received records (RFC 8446 section 5) and sealing records to send.</summary>
internal sealed partial class Tls13RecordStream
{
    private const int HeaderLength = 5;
    private const int MaxPlaintext = 16 * 1024;
    // A record's ciphertext may exceed its plaintext by 256 (section 5.2); anything longer is record_overflow.
    private const int MaxCiphertext = MaxPlaintext + 256;
    private const int MaxRecord = HeaderLength + MaxCiphertext;
    private const byte ApplicationData = 23;
    private const byte Alert = 21;
    private const byte Handshake = 22;
    private const byte KeyUpdateMessage = 24;

    /// <summary>
    /// Whether the next read has a record to open: a whole one (its header says how long it is), or a header it refuses,
    /// which ends the connection at once rather than after waiting for the rest.
    /// </summary>
    private bool HasRecordToOpen()
    {
        int buffered = _end - _start;
        if (buffered < HeaderLength) return false;
        int length = BinaryPrimitives.ReadUInt16BigEndian(_received.AsSpan(_start + 3));
        return buffered >= HeaderLength + length || IsRefused(_received![_start], length);
    }

    // The outer type of every protected record is application_data (section 5), and its length is bounded both ways.
    private static bool IsRefused(byte type, int length) => type != ApplicationData || length > MaxCiphertext || length <= RecordProtection.TagLength;

    /// <summary>
    /// Opens whole records: application data straight into <paramref name="destination"/> while each fits (Delivered,
    /// with <paramref name="count"/>), or, when the first does not, in place (Buffered).
    /// </summary>
    private RecordStep OpenRecords(Span<byte> destination, out int count)
    {
        count = 0;
        while (true)
        {
            var step = OpenRecord(destination[count..], out int opened);
            count += opened;
            switch (step)
            {
                case RecordStep.Delivered:
                    if (count < destination.Length) continue;
                    return step;
                case RecordStep.Consumed:
                    continue;
                default:
                    // Delivered data goes first; what stopped us is found again by the next read.
                    return count > 0 && step is RecordStep.NeedBytes or RecordStep.Buffered or RecordStep.Closed ? RecordStep.Delivered : step;
            }
        }
    }

    private RecordStep OpenRecord(Span<byte> destination, out int count)
    {
        count = 0;
        if (_received is null || _end - _start < HeaderLength) return RecordStep.NeedBytes;
        var record = _received.AsSpan(_start, _end - _start);
        int length = BinaryPrimitives.ReadUInt16BigEndian(record[3..]);
        // The outer type of every protected record is application_data; a CCS or a plaintext record after the
        // handshake is unexpected (section 5).
        if (record[0] != ApplicationData) return Fail(TlsAlert.UnexpectedMessage, $"a record of type {record[0]} after the handshake");
        if (length > MaxCiphertext) return Fail(TlsAlert.RecordOverflow, $"a record of {length} bytes");
        if (length <= RecordProtection.TagLength) return Fail(TlsAlert.DecodeError, $"a record of {length} bytes");
        if (record.Length < HeaderLength + length) return RecordStep.NeedBytes;
        int innerLength = length - RecordProtection.TagLength;
        bool direct = destination.Length >= innerLength;
        int innerStart = _start + HeaderLength;
        var inner = direct ? destination[..innerLength] : _received.AsSpan(innerStart, innerLength);
        bool authentic;
        try
        {
            authentic = _read.Open(record[..HeaderLength], record.Slice(HeaderLength, innerLength), record.Slice(HeaderLength + innerLength, RecordProtection.TagLength), inner);
        }
        catch (ObjectDisposedException)
        {
            // Disposed by the transport while this read ran: the connection is over.
            return Fail(0, "the connection was closed");
        }
        if (!authentic) return Fail(TlsAlert.BadRecordMac, "a record failed authentication");
        _start += HeaderLength + length;

        // TLSInnerPlaintext: content, its type, zeros (section 5.2).
        int typeAt = inner.LastIndexOfAnyExcept((byte)0);
        if (typeAt < 0) return Fail(TlsAlert.UnexpectedMessage, "a record with no content type");
        if (typeAt > MaxPlaintext) return Fail(TlsAlert.RecordOverflow, $"a record of {typeAt} bytes of plaintext");
        var content = inner[..typeAt];
        switch (inner[typeAt])
        {
            case ApplicationData when direct:
                count = content.Length;
                return RecordStep.Delivered;
            case ApplicationData:
                _plainStart = innerStart;
                _plainEnd = innerStart + content.Length;
                return content.IsEmpty ? RecordStep.Consumed : RecordStep.Buffered;
            case Alert:
                return ReadAlert(content);
            case Handshake:
                return ReadKeyUpdate(content);
            default:
                return Fail(TlsAlert.UnexpectedMessage, $"a record of content type {inner[typeAt]}");
        }
    }

    private RecordStep ReadAlert(ReadOnlySpan<byte> alert)
    {
        if (alert.Length != 2) return Fail(TlsAlert.DecodeError, "a malformed alert");
        return alert[1] switch
        {
            TlsAlert.CloseNotify => ClientClosed(),
            // A warning that a close_notify follows (section 6.1).
            TlsAlert.UserCanceled => RecordStep.Consumed,
            _ => Fail(0, $"the client sent alert {alert[1]}"),
        };
    }

    private RecordStep ClientClosed()
    {
        _closed = true;
        return RecordStep.Closed;
    }

    // The only handshake message a client sends after its Finished is KeyUpdate (section 4.6.3), alone at the end of
    // its record, since the key changes after it (section 5.1).
    private RecordStep ReadKeyUpdate(ReadOnlySpan<byte> message)
    {
        if (message.Length != 5 || message[0] != KeyUpdateMessage || message[1] != 0 || message[2] != 0 || message[3] != 1)
            return Fail(TlsAlert.UnexpectedMessage, "a handshake message after the handshake");
        if (message[4] > 1) return Fail(TlsAlert.DecodeError, "a KeyUpdate with an unknown request");
        _read.Update();
        // update_requested: ours goes before our next application data (section 4.6.3).
        if (message[4] == 1) Volatile.Write(ref _keyUpdateOwed, true);
        return RecordStep.Consumed;
    }

    /// <summary>Ends the connection for <paramref name="reason"/>, with <paramref name="alert"/> to the client when not 0.</summary>
    private RecordStep Fail(byte alert, string reason)
    {
        _failure = $"TLS record layer: {reason}";
        if (alert != 0) Volatile.Write(ref _alertOwed, alert);
        return RecordStep.Failed;
    }

    /// <summary>Seals one record of <paramref name="contentType"/> carrying <paramref name="content"/> into <paramref name="into"/>; returns its length.</summary>
    private int Seal(Span<byte> into, byte contentType, ReadOnlySpan<byte> content)
    {
        int length = content.Length + 1 + RecordProtection.TagLength;
        WriteRecordHeader(into, length);
        _write.SealBegin(into[..HeaderLength]);
        _write.SealPart(content, into.Slice(HeaderLength, content.Length));
        _write.SealEnd(contentType, into.Slice(HeaderLength + content.Length, 1 + RecordProtection.TagLength));
        return HeaderLength + length;
    }
}
