using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Mtt.Core.Relay;
using Mtt.Core.Transport;

namespace Mtt.Core.Mux;

/// <summary>
/// One smux stream: its own backend connection, a bounded queue of the client's bytes toward it, and
/// Relay's <see cref="BackendToClientCopy"/> from the backend to the client, which hands one frame at a
/// time to the session's sender (through <see cref="SmuxClientSink"/>). A backend that fails ends this
/// stream alone (a FIN to the client); one that stops reading stops only this stream's queue from draining.
/// </summary>
internal sealed class SmuxStream
{
    /// <summary>
    /// Data per frame we send: with the smux header (8 bytes) and the WebSocket header (4) the message
    /// is exactly one 16 KiB TLS record, where 16 KiB of data would spill a 12-byte record after each.
    /// </summary>
    public const int MaxFrameData = 16 * 1024 - SmuxFrameHeader.Size - 4;

    /// <summary>
    /// Frames a stream hands the sender at once: one backend read of up to 64 KiB leaves in one turn and one
    /// flush (one send), not four, each with two thread-pool hops. Another busy stream of the session waits
    /// for at most this many frames per turn.
    /// </summary>
    public const int MaxFramesPerTurn = 4;

    /// <summary>Data a stream hands the sender at once, in frames of at most <see cref="MaxFrameData"/>.</summary>
    public const int MaxDataPerTurn = MaxFramesPerTurn * MaxFrameData;

    /// <summary>Version 2: the window we grant each stream (<see cref="SmuxFlowWindow.ReceiveWindow"/>).</summary>
    public const int ReceiveWindow = SmuxFlowWindow.ReceiveWindow;

    private readonly SmuxSession _session;
    private readonly byte _version;
    private readonly SmuxStreamInput _input = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly AsyncSignal _frameSent = new();
    private readonly AsyncSignal _windowChanged = new();
    private volatile bool _clientFinished;

    // The halves of the stream that have ended: the client's FIN read, ours handed to the sender. Once
    // both have, the stream gives its place in the session back, at once and exactly once.
    private const int ClientHalf = 1;
    private const int ServerHalf = 2;
    private int _halvesEnded;
    private int _placeReleased;

    // Version 2 only: allocated with the stream, so the hot path never asks whether it exists.
    private readonly SmuxFlowWindow _window = new();

    private long _bytesToClient;

    public SmuxStream(uint id, byte version, SmuxSession session)
    {
        Id = id;
        _version = version;
        _session = session;
    }

    public uint Id { get; }

    /// <summary>
    /// The data this stream has handed to the sender, as PSH frames: a slice of the backend's read buffer,
    /// which the copy loop holds until the sender answers, so nothing is copied before the transport's buffer.
    /// Empty for our FIN.
    /// </summary>
    public ReadOnlySequence<byte> PendingData { get; private set; }

    /// <summary>How the sender frames <see cref="PendingData"/>.</summary>
    public SmuxDataPrefix DataPrefix => new(_version, Id);

    public byte Version => _version;

    /// <summary>Client bytes held toward the backend: read, and not yet flushed to it.</summary>
    public int QueuedBytes => _input.QueuedBytes;

    /// <summary>
    /// Hands client data to the backend (<see cref="SmuxStreamInput.Take"/>). Unless dropped, it is held: the
    /// caller counts it against the session's budget until it is released, and after
    /// <see cref="SmuxInputOutcome.HeldUntilFlush"/> calls <see cref="FlushWritten"/> before it waits for anything.
    /// Dropped when the stream takes no more (the client sent FIN, or the backend is gone), as smux drops data
    /// for a closed stream.
    /// </summary>
    public SmuxInputOutcome TryQueue(ReadOnlySpan<byte> data) => _input.Take(data);

    /// <summary>
    /// The session's reader flushes what it wrote to the backend: returns the bytes that reached it at once, which
    /// leave the session's budget (the caller's own count: no wake-up); the rest stays held until its flush ends.
    /// </summary>
    public int FlushWritten()
    {
        int released = _input.FlushWritten(out bool failed);
        if (failed) ReleaseInput();
        else Consumed(released);
        return released;
    }

    /// <summary>The client sent FIN: it sends no more, so the backend gets end of input once the queue drains.</summary>
    public void OnClientFin()
    {
        _clientFinished = true;
        // What the reader wrote before the FIN goes first: the upstream loop half-closes once the queue is complete.
        int released = FlushWritten();
        if (released > 0) _session.OnDelivered(released);
        _input.Complete();
        _windowChanged.Set();
        // On the session's reader, before it parses the next frame: a SYN right behind this FIN finds the place free.
        HalfEnded(ClientHalf);
    }

    /// <summary>Version 2: the client's UPD.</summary>
    public void OnUpdate(uint consumed, uint window)
    {
        _window.OnUpdate(consumed, window);
        _windowChanged.Set();
    }

    /// <summary>The session is ending: stop everything; backends are closed by <see cref="RunAsync"/> on its way out.</summary>
    public void Abort()
    {
        try { _stop.Cancel(); } catch (ObjectDisposedException) { }
        // Not _frameSent: the sender answers every frame it was handed exactly once, and the backend's
        // read buffer must not be released while a send may still read it.
        _windowChanged.Set();
    }

    /// <summary>Called by the sender once our frame went out (true) or never will (false).</summary>
    public void OnFrameSent(bool sent, bool resumeHere = false)
    {
        if (resumeHere) _frameSent.SetHere(sent);
        else _frameSent.Set(sent);
    }

    /// <summary>Called by the sender as it writes our UPD: what we have consumed and the window we grant.</summary>
    public (uint Consumed, uint Window) TakeUpdate() => _window.TakeUpdate();

    public async Task RunAsync(Func<CancellationToken, Task<(SocketTransport? Connection, string? Error)>> dial)
    {
        var token = _stop.Token;
        SocketTransport? backend = null;
        string outcome = "ended";
        try
        {
            string? error;
            try
            {
                (backend, error) = await dial(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }

            if (backend is null)
            {
                outcome = "backend refused";
                _session.OnBackendFailed(this, error ?? "unknown error");
                ReleaseInput();
                await SendFinAsync(token).ConfigureAwait(false);
                return;
            }

            _session.OnStreamOpened(this);
            // From here the session's reader may write to the backend itself.
            _input.Attach(backend.Output, token);
            var upstream = SmuxQueueDrain.RunAsync(_input, this, backend, token);
            var downstream = BackendToClientCopy.RunAsync(backend, new SmuxClientSink(this), _session.Meter, _session.Time, token);
            await Task.WhenAll(upstream, downstream).ConfigureAwait(false);
            outcome = token.IsCancellationRequested ? "session ended" : "closed";
        }
        finally
        {
            ReleaseInput();
            ReleasePlace();
            if (backend is not null) await backend.DisposeAsync().ConfigureAwait(false);
            await _input.Reader.CompleteAsync().ConfigureAwait(false);
            _session.OnStreamEnded(this, outcome, _input.BytesFromClient, Interlocked.Read(ref _bytesToClient));
            _stop.Dispose();
        }
    }

    /// <summary>The bytes the client can take now in one frame, at most <paramref name="available"/>; 0 when it takes no more.</summary>
    internal ValueTask<int> RoomAsync(long available)
    {
        int length = (int)Math.Min(available, MaxDataPerTurn);
        return _version == SmuxFrameHeader.Version2 ? WaitForWindowAsync(length) : new ValueTask<int>(length);
    }

    /// <summary>Hands <paramref name="chunk"/> to the sender, to go out as PSH frames in one turn; true once it went out.</summary>
    /// <remarks>
    /// Not an async method: the copy loop awaits the signal itself, so the hot path has no state machine per
    /// frame. A pooled one was still allocated now and then: its box is rented on the thread that sends and
    /// returned on the thread the sender's signal resumes, and the per-thread cache drops it when full.
    /// </remarks>
    internal ValueTask<bool> SendDataAsync(in ReadOnlySequence<byte> chunk)
    {
        PendingData = chunk;
        _session.Sender.EnqueueFrame(this);
        return _frameSent.WaitForResultAsync();
    }

    /// <summary>A PSH frame went out: false when the stream is aborting, and nothing more is sent or counted.</summary>
    internal bool DataSent(int length)
    {
        if (_stop.IsCancellationRequested) return false;
        _window.Sent(length);
        Interlocked.Add(ref _bytesToClient, length);
        _session.Meter.ToClient(length);
        _session.Touch();
        return true;
    }

    /// <summary>The backend ended, failed, or the client takes no more: our FIN.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    internal async ValueTask BackendEndedAsync(BackendEnd end)
    {
        await SendFinAsync(_stop.Token).ConfigureAwait(false);
        // A backend that failed (rather than ended) takes no more either: nothing the client sends can reach it.
        if (end == BackendEnd.Failed) ReleaseInput();
    }

    /// <summary>Version 2: the bytes the client's window allows now, waiting while it is shut; 0 when there is no point waiting any more.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> WaitForWindowAsync(int want)
    {
        while (true)
        {
            if (_stop.IsCancellationRequested) return 0;
            int available = _window.Available(MaxDataPerTurn);
            if (available != 0) return Math.Clamp(available, 0, want);
            // After its FIN the client no longer reads this stream, so its window will never open again.
            if (_clientFinished) return 0;
            await _windowChanged.WaitAsync().ConfigureAwait(false);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendFinAsync(CancellationToken token)
    {
        if (token.IsCancellationRequested) return;
        PendingData = default;
        // Before the FIN can reach the client: once it has, the client may count the stream gone.
        HalfEnded(ServerHalf);
        _session.Sender.EnqueueFrame(this);
        await _frameSent.WaitAsync().ConfigureAwait(false);
    }

    private void HalfEnded(int half)
    {
        int before = Interlocked.Or(ref _halvesEnded, half);
        if ((before | half) == (ClientHalf | ServerHalf)) ReleasePlace();
    }

    private void ReleasePlace()
    {
        if (Interlocked.Exchange(ref _placeReleased, 1) == 0) _session.OnStreamEndedBothWays();
    }

    /// <summary>
    /// Held client bytes reached the backend: <paramref name="released"/> leave the session's budget (fewer than
    /// <paramref name="count"/> when ReleaseInput handed them back already), and in version 2 the client may hear of it.
    /// </summary>
    internal void Delivered(int released, int count)
    {
        // Called by the upstream loop between two flushes, holding nothing: a reader waiting for room runs on here.
        if (released > 0) _session.OnDelivered(released, resumeHere: true);
        Consumed(count);
    }

    /// <summary>Version 2: client bytes reached the backend, which the client hears of by UPD now and then.</summary>
    private void Consumed(int count)
    {
        if (_version == SmuxFrameHeader.Version2 && _window.Consumed(count)) _session.Sender.EnqueueUpdate(this);
    }

    /// <summary>The stream takes no more client bytes; what was queued and never delivered leaves the budget.</summary>
    internal void ReleaseInput()
    {
        int released = _input.ReleaseAll();
        if (released > 0) _session.OnDelivered(released);
    }
}
