using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>
/// Sending: application data as whole records, and what the reader owes the client (a KeyUpdate it asked for, an
/// alert before the connection ends). One sender at a time, since records out of order are a broken connection.
/// </summary>
internal sealed partial class Tls13RecordStream
{
    /// <summary>
    /// Records under one key before the server moves to the next: RFC 8446 section 5.5 allows AES-GCM 2^24.5 full
    /// records per key; the update costs one 27-byte record.
    /// </summary>
    public const ulong DefaultRecordsPerKey = 1UL << 24;

    // A full record, and room before it for a KeyUpdate.
    private const int FullRecord = HeaderLength + MaxPlaintext + 1 + RecordProtection.TagLength;
    private const int ControlRecord = HeaderLength + 5 + 1 + RecordProtection.TagLength;
    // Four full records per send: a 64 KiB pipe segment in one system call.
    private const int SendBufferSize = 4 * (FullRecord + ControlRecord);

    private readonly SemaphoreSlim _sending = new(1, 1);

    /// <summary>KeyUpdates the server sent (asked for, or at its key's share); for tests.</summary>
    internal int KeyUpdatesSent { get; private set; }
    private bool _keyUpdateOwed;
    private byte _alertOwed;

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) =>
        source.IsEmpty ? default : WriteFramedAsync(new ReadOnlySequence<byte>(source), default(Unframed), cancellationToken);

    /// <summary>
    /// A gathering write: <paramref name="data"/> cut into frames behind <paramref name="headers"/>' headers, sealed from
    /// where the headers and the data lie into whole records (16 KiB of plaintext each; frames and records need not
    /// align), about 64 KiB of records per system call. Completes when every record is in the kernel, so the caller
    /// may reuse the data's buffer then, and a client that stops reading stops the caller. One write at a time, with
    /// the stream's other writes: the caller orders its frames.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    internal async ValueTask WriteFramedAsync<THeaders>(ReadOnlySequence<byte> data, THeaders headers, CancellationToken cancellationToken)
        where THeaders : struct, IFrameHeaders
    {
        var cursor = new FramedCursor<THeaders>(data, headers);
        if (cursor.Remaining == 0) return;
        await _sending.WaitAsync(cancellationToken).ConfigureAwait(false);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(SendBufferSize);
        try
        {
            while (cursor.Remaining > 0)
            {
                if (_failure is not null) throw new IOException(_failure);
                int length = 0;
                while (cursor.Remaining > 0 && buffer.Length - length >= FullRecord + ControlRecord)
                {
                    length += OwedKeyUpdate(buffer.AsSpan(length));
                    length += SealNext(buffer.AsSpan(length), ref cursor);
                }
                // A stream socket's send completes when all of it is in the kernel: the client's reading paces us.
                await _socket.SendAsync(buffer.AsMemory(0, length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
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
        catch (ObjectDisposedException) when (Volatile.Read(ref _disposed) != 0)
        {
            throw new IOException("the connection was closed");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            Released();
        }
    }

    // One application data record of the cursor's next (up to) 16 KiB, sealed piece by piece into <into>; its length.
    private int SealNext<THeaders>(Span<byte> into, ref FramedCursor<THeaders> cursor) where THeaders : struct, IFrameHeaders
    {
        int contentLength = (int)Math.Min(MaxPlaintext, cursor.Remaining);
        int length = contentLength + 1 + RecordProtection.TagLength;
        WriteRecordHeader(into, length);
        _write.SealBegin(into[..HeaderLength]);
        var ciphertext = into.Slice(HeaderLength, contentLength);
        while (!ciphertext.IsEmpty)
        {
            var piece = cursor.Next(ciphertext.Length);
            _write.SealPart(piece, ciphertext);
            ciphertext = ciphertext[piece.Length..];
        }
        _write.SealEnd(ApplicationData, into.Slice(HeaderLength + contentLength, 1 + RecordProtection.TagLength));
        return HeaderLength + length;
    }

    // The record header, which is also the record's additional data: application data of TLS 1.2's version (section 5.1).
    private static void WriteRecordHeader(Span<byte> into, int length)
    {
        into[0] = ApplicationData;
        into[1] = 3;
        into[2] = 3;
        BinaryPrimitives.WriteUInt16BigEndian(into[3..], (ushort)length);
    }

    // A KeyUpdate before the next record, when the client asked for one or this key has protected its share.
    private int OwedKeyUpdate(Span<byte> into)
    {
        bool asked = Interlocked.Exchange(ref _keyUpdateOwed, false);
        if (!asked && _write.Sequence < _recordsPerKey) return 0;
        // update_not_requested: the client's own key is its business.
        int length = Seal(into, Handshake, [KeyUpdateMessage, 0, 0, 1, 0]);
        _write.Update();
        KeyUpdatesSent++;
        return length;
    }

    /// <summary>
    /// Sends what the reader owes the client unless a write is under way (which sends a KeyUpdate with its records).
    /// Not awaited: a reader must not wait for the client to make room.
    /// </summary>
    private void SendAnswers()
    {
        if ((Volatile.Read(ref _keyUpdateOwed) || Volatile.Read(ref _alertOwed) != 0) && _sending.Wait(0)) _ = SendAnswersAsync();
    }

    private async Task SendAnswersAsync()
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(2 * ControlRecord);
        try
        {
            byte alert = Interlocked.Exchange(ref _alertOwed, 0);
            int length = alert != 0 ? Seal(buffer, Alert, [TlsAlert.Fatal, alert]) : OwedKeyUpdate(buffer);
            if (length > 0) await _socket.SendAsync(buffer.AsMemory(0, length), SocketFlags.None).ConfigureAwait(false);
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

    // A reader that found the sender busy left its answer to it: look again once the sender is gone. After a fatal
    // alert nothing more is owed.
    private void Released()
    {
        _sending.Release();
        if (_failure is null || Volatile.Read(ref _alertOwed) != 0) SendAnswers();
    }
}
