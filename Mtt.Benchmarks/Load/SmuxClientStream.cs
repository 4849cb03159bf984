using System.Buffers;
using System.IO.Pipelines;

namespace Mtt.Benchmarks.Load;

/// <summary>
/// One stream of a <see cref="SmuxClientSession"/> as an echo channel: writes go out as PSH frames of at
/// most 16 KiB; reads take what the session's read loop delivered. Version 1 has no flow control, so the
/// client just reads as fast as it can. Version 2 keeps to the server's window and announces what it
/// consumed (UPD) at its first read and then every half window, as xtaci/smux does.
/// </summary>
internal sealed class SmuxClientStream : EchoChannel
{
    // Version 1: delivered bytes the echo has not read yet before the session's read loop waits (as
    // xtaci/smux's session-wide receive buffer stalls its reader); far above what one read takes.
    private const long PauseDelivery = 4L << 20;
    private const long ResumeDelivery = 2L << 20;

    private readonly SmuxClientSession _session;
    private readonly Pipe _received;
    private readonly byte[] _frame = new byte[SmuxWire.HeaderSize + SmuxWire.ClientFrameData];
    private readonly SemaphoreSlim _windowChanged = new(0);
    private volatile bool _ended;
    private bool _writerDone;
    private int _released;

    // Version 2 flow control; counts wrap at 2^32 as xtaci/smux's do, so only differences are used.
    private uint _sent;
    private uint _peerConsumed;
    private uint _peerWindow = SmuxWire.Window;
    private uint _delivered;
    private uint _consumed;
    private uint _announced;
    private bool _announcedOnce;

    public SmuxClientStream(SmuxClientSession session, uint id)
    {
        _session = session;
        Id = id;
        // In version 2 the server's window bounds what is delivered and unread; the pipe need not pause too.
        _received = session.Version == 2
            ? new Pipe(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false))
            : new Pipe(new PipeOptions(pauseWriterThreshold: PauseDelivery, resumeWriterThreshold: ResumeDelivery, useSynchronizationContext: false));
    }

    public uint Id { get; }

    public override async ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            int length = Math.Min(data.Length, SmuxWire.ClientFrameData);
            if (_session.Version == 2) length = Math.Min(length, await WaitForWindowAsync(cancellationToken).ConfigureAwait(false));
            SmuxWire.WriteHeader(_frame, _session.Version, SmuxWire.Psh, length, Id);
            data.Span[..length].CopyTo(_frame.AsSpan(SmuxWire.HeaderSize));
            await _session.SendFrameAsync(_frame.AsMemory(0, SmuxWire.HeaderSize + length), cancellationToken).ConfigureAwait(false);
            _sent += (uint)length;
            data = data[length..];
        }
    }

    public override async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var read = await _received.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var available = read.Buffer;
        int count = (int)Math.Min(available.Length, buffer.Length);
        available.Slice(0, count).CopyTo(buffer.Span);
        _received.Reader.AdvanceTo(available.GetPosition(count));
        if (count > 0 && _session.Version == 2) await ConsumedAsync(count, cancellationToken).ConfigureAwait(false);
        return count;
    }

    /// <summary>FIN (we send no more), then the session's close handshake if this was its last stream.</summary>
    public override async Task CloseAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        // Whatever still arrives is dropped: nothing reads it any more, and the read loop must not wait for room.
        await _received.Reader.CompleteAsync().ConfigureAwait(false);
        if (!_ended)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _session.SendFinAsync(Id, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
        await _session.ReleaseStreamAsync(graceful: true).ConfigureAwait(false);
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        await _received.Reader.CompleteAsync().ConfigureAwait(false);
        await _session.ReleaseStreamAsync(graceful: false).ConfigureAwait(false);
    }

    /// <summary>The read loop's PSH data for this stream; in version 1 waits while the echo is far behind.</summary>
    public async ValueTask DeliverAsync(ReadOnlyMemory<byte> data)
    {
        // After the server's FIN, data on the stream is dropped, as xtaci/smux drops it.
        if (_writerDone) return;
        if (_session.Version == 2)
        {
            _delivered += (uint)data.Length;
            // The server may have in flight at most one window beyond what we last announced.
            if ((int)(_delivered - Volatile.Read(ref _announced)) > SmuxWire.Window)
                throw new InvalidDataException($"stream {Id}: the server sent {(int)(_delivered - Volatile.Read(ref _announced)):N0} bytes beyond what we announced as consumed, more than the {SmuxWire.Window:N0}-byte window");
        }
        _received.Writer.Write(data.Span);
        await _received.Writer.FlushAsync().ConfigureAwait(false);
    }

    public void OnFin()
    {
        _ended = true;
        if (_writerDone) return;
        _writerDone = true;
        _received.Writer.Complete();
        _windowChanged.Release();
    }

    public void OnUpdate(uint consumed, uint window)
    {
        Volatile.Write(ref _peerConsumed, consumed);
        Volatile.Write(ref _peerWindow, window);
        _windowChanged.Release();
    }

    /// <summary>The session ended: the echo sees the end of its data, or the protocol fault that ended it.</summary>
    public void OnSessionEnded(Exception? fault)
    {
        _ended = true;
        if (!_writerDone) _received.Writer.Complete(fault);
        _writerDone = true;
        _windowChanged.Release();
    }

    private async ValueTask<int> WaitForWindowAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            long inFlight = _sent - Volatile.Read(ref _peerConsumed);
            long open = Volatile.Read(ref _peerWindow) - inFlight;
            if (open > 0) return (int)Math.Min(open, SmuxWire.ClientFrameData);
            if (_ended) throw new IOException($"stream {Id} ended while waiting for the server's window");
            await _windowChanged.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask ConsumedAsync(int count, CancellationToken cancellationToken)
    {
        _consumed += (uint)count;
        if (_announcedOnce && _consumed - Volatile.Read(ref _announced) < SmuxWire.Window / 2) return;
        _announcedOnce = true;
        // Recorded before it is sent: the server may answer with more data before our send returns.
        Volatile.Write(ref _announced, _consumed);
        await _session.SendUpdateAsync(Id, _consumed, cancellationToken).ConfigureAwait(false);
    }
}
