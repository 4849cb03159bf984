using Mtt.Core.Diagnostics;
using Mtt.Core.Listening;
using Mtt.Core.WebSockets;

namespace Mtt.Core.Mux;

/// <summary>
/// The server side of one smux session (PROTOCOL §4) over a client's WebSocket byte stream. One read
/// loop parses frames and dispatches them to streams; one <see cref="SmuxFrameSender"/> writes every
/// frame back; each SYN becomes a <see cref="SmuxStream"/> with its own backend connection.
/// <para>
/// Backpressure: in version 1 the only limit smux has is the session's receive budget. Once the bytes
/// read but not yet written to backends reach it, the session stops reading the WebSocket, so a
/// backend that stops reading can stall the whole session once its stream has taken the budget. That
/// is inherent to version 1, and the Go server behaves the same. In version 2 each stream has its own
/// window (we send UPD as our backend takes the bytes, and respect the client's), so a stalled backend
/// only stalls its own stream; a session then holds at most one window per stream.
/// </para>
/// </summary>
internal sealed class SmuxSession
{
    // A whole client frame (16 KiB of data and its header) fits, so parsing seldom waits on a split frame;
    // fixed, so unparsed input stays bounded whatever the client sends.
    private const int ReceiveBufferSize = 32 * 1024;

    private readonly WebSocketConnection _client;
    private readonly Func<CancellationToken, Task<(SocketTransport? Connection, string? Error)>> _dial;
    private readonly SmuxSessionOptions _options;
    private readonly ServerLog _log;
    private readonly string _clientName;
    private readonly string _backendName;
    private readonly Dictionary<uint, SmuxStream> _streams;
    private readonly Lock _streamsLock = new();
    private readonly CancellationTokenSource _stop = new();
    // A frame being written when the session stops is let finish for a grace period: cut short, it would
    // leave half a message on the wire and no close frame could follow it.
    private readonly CancellationTokenSource _abortClientWrites = new();
    private readonly AsyncSignal _room = new();
    private readonly AsyncSignal _streamEnded = new();
    private readonly SmuxReceiveBuffer _buffer = new(ReceiveBufferSize);
    private readonly Lock _timerLock = new();
    private SmuxFrameParser _parser;
    private Timer? _timer;
    private int _queued;
    private int _peakQueued;
    private long _lastReceived = Environment.TickCount64;
    private long _lastData = Environment.TickCount64;
    private long _lastKeepAlive = Environment.TickCount64;
    private volatile bool _readStalled;
    private TaskCompletionSource? _firstStall;
    private int _endReason = -1;
    // Streams that hold one of the MaxStreams places: opened and not yet ended both ways. Guarded by _streamsLock.
    private int _openStreams;
    // A SYN read while ended streams still finishing fill the registry; opened (or refused) once one is gone.
    private uint? _waitingSyn;
    private int _streamsOpened;
    private int _streamsRefused;
    private long _bytesFromClient;
    private long _bytesToClient;

    public SmuxSession(
        WebSocketConnection client,
        Func<CancellationToken, Task<(SocketTransport? Connection, string? Error)>> dial,
        SmuxSessionOptions options,
        ServerLog log,
        string clientName,
        string backendName,
        TunnelMeter meter)
    {
        Meter = meter;
        _client = client;
        _dial = dial;
        _options = options;
        _log = log;
        _clientName = clientName;
        _backendName = backendName;
        _streams = new Dictionary<uint, SmuxStream>(options.MaxStreams);
        Sender = new SmuxFrameSender(client, options.MaxStreams);
    }

    public SmuxFrameSender Sender { get; }

    /// <summary>The user and server counters this session's bytes and streams go to, if any.</summary>
    internal TunnelMeter Meter { get; }

    /// <summary>The most client bytes this session ever held for its backends at once (memory bound checks).</summary>
    public int PeakQueuedBytes => Volatile.Read(ref _peakQueued);

    /// <summary>For tests: completes when the read loop first stops for want of room (budget or window).</summary>
    internal Task FirstReadStall
    {
        get
        {
            Interlocked.CompareExchange(ref _firstStall, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);
            if (_readStalled) _firstStall.TrySetResult();
            return _firstStall.Task;
        }
    }

    public int LiveStreams
    {
        get { lock (_streamsLock) return _streams.Count; }
    }

    public async Task<SmuxSessionResult> RunAsync(CancellationToken serverStopping)
    {
        using var stopRegistration = serverStopping.UnsafeRegister(static state => ((SmuxSession)state!).Stop(SmuxEndReason.ServerStopping), this);
        // Once per session: a user deleted (or moved to another dst) ends the session and its streams with 1008.
        using var revokedRegistration = Meter.Revoked.UnsafeRegister(static state => ((SmuxSession)state!).Stop(SmuxEndReason.UserRemoved), this);
        lock (_timerLock) _timer = new Timer(static state => ((SmuxSession)state!).Tick(), this, NextTickDelay(Environment.TickCount64), Timeout.InfiniteTimeSpan);
        var sender = RunSenderAsync();

        SmuxEndReason reason;
        try
        {
            reason = await ReadLoopAsync(_stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            reason = EndReason ?? SmuxEndReason.ServerStopping;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // A reset or a TLS failure on the client's connection.
            reason = SmuxEndReason.ClientDisconnected;
        }

        Stop(reason);
        reason = EndReason!.Value;
        Timer? timer;
        lock (_timerLock)
        {
            timer = _timer;
            _timer = null;
        }
        if (timer is not null) await timer.DisposeAsync().ConfigureAwait(false);
        await sender.ConfigureAwait(false);
        while (LiveStreams > 0) await _streamEnded.WaitAsync().ConfigureAwait(false);
        _buffer.Dispose();

        ushort? closeCode = reason switch
        {
            SmuxEndReason.SmuxProtocolError => WebSocketCloseCodes.ProtocolError,
            SmuxEndReason.KeepAliveTimeout or SmuxEndReason.IdleTimeout => WebSocketCloseCodes.NormalClosure,
            SmuxEndReason.ServerStopping => WebSocketCloseCodes.GoingAway,
            SmuxEndReason.UserRemoved => WebSocketCloseCodes.PolicyViolation,
            _ => null,
        };
        if (closeCode is { } code)
        {
            using var closeTimeout = new CancellationTokenSource(_options.CloseHandshakeTimeout);
            await _client.SendCloseAsync(code, closeTimeout.Token).ConfigureAwait(false);
        }
        _stop.Dispose();
        _abortClientWrites.Dispose();
        return new SmuxSessionResult(reason, _parser.Error, _streamsOpened, _streamsRefused,
            Interlocked.Read(ref _bytesFromClient), Interlocked.Read(ref _bytesToClient));
    }

    private SmuxEndReason? EndReason
    {
        get
        {
            int value = Volatile.Read(ref _endReason);
            return value < 0 ? null : (SmuxEndReason)value;
        }
    }

    private async Task RunSenderAsync()
    {
        await Task.Yield();
        if (!await Sender.RunAsync(_abortClientWrites.Token).ConfigureAwait(false)) Stop(SmuxEndReason.ClientDisconnected);
    }

    private enum Step
    {
        NeedMoreData,
        NeedRoom,
        Refuse,
        ProtocolError,
    }

    private enum OpenOutcome
    {
        Opened,
        Refused,
        NoRoomYet,
    }

    private async Task<SmuxEndReason> ReadLoopAsync(CancellationToken token)
    {
        while (true)
        {
            switch (ProcessBuffered(out uint refused))
            {
                case Step.NeedMoreData:
                    var received = await _client.ReceiveAsync(_buffer, _buffer.PrepareFree(), token).ConfigureAwait(false);
                    switch (received.Status)
                    {
                        case ReceiveStatus.Data:
                            Volatile.Write(ref _lastReceived, Environment.TickCount64);
                            continue;
                        case ReceiveStatus.Closed:
                            return SmuxEndReason.ClientClosed;
                        case ReceiveStatus.Ended:
                            return SmuxEndReason.ClientDisconnected;
                        default:
                            return SmuxEndReason.WebSocketProtocolError;
                    }

                case Step.NeedRoom:
                    _readStalled = true;
                    Volatile.Read(ref _firstStall)?.TrySetResult();
                    await _room.WaitAsync().ConfigureAwait(false);
                    _readStalled = false;
                    // The client was not silent, we were not reading: the keepalive clock restarts.
                    Volatile.Write(ref _lastReceived, Environment.TickCount64);
                    token.ThrowIfCancellationRequested();
                    continue;

                case Step.Refuse:
                    await RefuseAsync(refused, token).ConfigureAwait(false);
                    continue;

                default:
                    if (_log.IsVerbose) _log.Verbose($"{_clientName}: smux protocol error ({_parser.Error}); closing with 1002");
                    return SmuxEndReason.SmuxProtocolError;
            }
        }
    }

    /// <summary>Parses and dispatches everything buffered, until it needs more input, room, or a refusal sent.</summary>
    private Step ProcessBuffered(out uint refused)
    {
        refused = 0;
        if (_waitingSyn is { } waiting && !TryOpenOrRefuse(waiting, ref refused, out var step)) return step;
        while (true)
        {
            var input = _buffer.Readable;
            SmuxStream? target = null;
            if (_parser.DataRemaining > 0 && !input.IsEmpty && (target = Find(_parser.DataStreamId)) is not null)
            {
                int room = RoomFor(target);
                if (room <= 0) return Step.NeedRoom;
                if (input.Length > room) input = input[..room];
            }

            var status = _parser.Parse(input, out var header, out int consumed, out uint consumedCount, out uint window);
            switch (status)
            {
                case SmuxParseStatus.NeedMoreData:
                    return Step.NeedMoreData;

                case SmuxParseStatus.Data:
                    // Data for an unknown or finished stream is read and dropped, as xtaci/smux does.
                    if (target is not null && target.TryQueue(input[..consumed])) AddQueued(consumed);
                    Interlocked.Add(ref _bytesFromClient, consumed);
                    Meter.FromClient(consumed);
                    _buffer.Consume(consumed);
                    Touch();
                    continue;

                case SmuxParseStatus.Frame:
                    _buffer.Consume(consumed);
                    if (Sender.Version == 0) Sender.Version = _parser.Version;
                    switch (header.Command)
                    {
                        case SmuxCommand.Syn:
                            if (!TryOpenOrRefuse(header.StreamId, ref refused, out var synStep)) return synStep;
                            break;
                        case SmuxCommand.Fin:
                            Find(header.StreamId)?.OnClientFin();
                            break;
                        case SmuxCommand.Upd:
                            Find(header.StreamId)?.OnUpdate(consumedCount, window);
                            break;
                    }
                    continue;

                default:
                    return Step.ProtocolError;
            }
        }
    }

    /// <summary>Handles a SYN; false with the step to stop at when it is refused or must wait for room.</summary>
    private bool TryOpenOrRefuse(uint id, ref uint refused, out Step step)
    {
        _waitingSyn = null;
        switch (TryOpen(id))
        {
            case OpenOutcome.Refused:
                refused = id;
                step = Step.Refuse;
                return false;
            case OpenOutcome.NoRoomYet:
                _waitingSyn = id;
                step = Step.NeedRoom;
                return false;
            default:
                step = default;
                return true;
        }
    }

    /// <summary>
    /// Opens a stream for a SYN, unless MaxStreams are open (refused). A SYN for a registered id is
    /// ignored, as xtaci/smux does. A stream stops counting as open the moment it has ended both ways
    /// (<see cref="OnStreamEndedBothWays"/>), before its last frame is written or its backend closed,
    /// so a client that opens a new stream as soon as it has seen one end is never refused.
    /// </summary>
    private OpenOutcome TryOpen(uint id)
    {
        SmuxStream stream;
        lock (_streamsLock)
        {
            if (_streams.ContainsKey(id)) return OpenOutcome.Opened;
            if (_openStreams >= _options.MaxStreams) return OpenOutcome.Refused;
            // Ended streams still finishing (a FIN the client has not read, a backend taking its last bytes)
            // hold no place but still hold memory and a backend connection: at most as many again as the
            // open ones, or a client that never reads could pile them up. The reader waits for one to go.
            if (_streams.Count >= 2 * _options.MaxStreams) return OpenOutcome.NoRoomYet;
            stream = new SmuxStream(id, _parser.Version, this);
            _streams.Add(id, stream);
            _openStreams++;
        }
        Interlocked.Increment(ref _streamsOpened);
        Meter.StreamOpened();
        _ = stream.RunAsync(_dial);
        return OpenOutcome.Opened;
    }

    /// <summary>Called once per stream: both sides have sent FIN (or the stream is gone), so it gives its place back.</summary>
    public void OnStreamEndedBothWays()
    {
        lock (_streamsLock) _openStreams--;
    }

    private async ValueTask RefuseAsync(uint id, CancellationToken token)
    {
        Interlocked.Increment(ref _streamsRefused);
        if (_log.IsVerbose) _log.Verbose($"{_clientName}: stream {id} refused: {_options.MaxStreams} streams already open");
        // Rare, and the read loop may wait for it: a client flooding SYNs it does not read the answers to stalls only itself.
        byte[] frame = new byte[SmuxFrameHeader.Size];
        new SmuxFrameHeader(_parser.Version, SmuxCommand.Fin, 0, id).Write(frame);
        await _client.SendAsync(new System.Buffers.ReadOnlySequence<byte>(frame), token).ConfigureAwait(false);
    }

    private SmuxStream? Find(uint id)
    {
        lock (_streamsLock) return _streams.GetValueOrDefault(id);
    }

    private int RoomFor(SmuxStream stream) => _parser.Version == SmuxFrameHeader.Version2
        ? SmuxStream.ReceiveWindow - stream.QueuedBytes
        : _options.ReceiveBudget - Volatile.Read(ref _queued);

    private void AddQueued(int count)
    {
        int queued = Interlocked.Add(ref _queued, count);
        int peak = Volatile.Read(ref _peakQueued);
        while (queued > peak)
        {
            int seen = Interlocked.CompareExchange(ref _peakQueued, queued, peak);
            if (seen == peak) break;
            peak = seen;
        }
    }

    /// <summary>A stream's queued bytes reached its backend, or were dropped with it: the reader may go on.</summary>
    public void OnDelivered(int count)
    {
        Interlocked.Add(ref _queued, -count);
        _room.Set();
    }

    /// <summary>Data moved: the idle clock restarts.</summary>
    public void Touch() => Volatile.Write(ref _lastData, Environment.TickCount64);

    public void OnStreamOpened(SmuxStream stream)
    {
        if (_log.IsVerbose) _log.Verbose($"{_clientName}: stream {stream.Id} open to {_backendName}");
    }

    public void OnBackendFailed(SmuxStream stream, string error)
    {
        Meter.DialFailed();
        _log.Warn($"{_clientName}: stream {stream.Id}: backend {_backendName} failed: {error}; sent FIN");
    }

    public void OnStreamEnded(SmuxStream stream, string outcome, long bytesFromClient, long bytesToClient)
    {
        int left;
        lock (_streamsLock)
        {
            _streams.Remove(stream.Id);
            left = _streams.Count;
        }
        Interlocked.Add(ref _bytesToClient, bytesToClient);
        Meter.StreamClosed();
        Touch();
        _room.Set();
        _streamEnded.Set();
        if (_log.IsVerbose) _log.Verbose($"{_clientName}: stream {stream.Id} {outcome}: {bytesFromClient} bytes from the client, {bytesToClient} to it");
        // The idle clock starts now; make sure the timer looks again by then.
        if (left == 0) Reschedule(NextTickDelay(Environment.TickCount64));
    }

    private void Tick()
    {
        long now = Environment.TickCount64;
        if (now - Volatile.Read(ref _lastKeepAlive) >= (long)_options.KeepAliveInterval.TotalMilliseconds)
        {
            Volatile.Write(ref _lastKeepAlive, now);
            Sender.RequestKeepAlive();
        }
        // While the read loop waits for backends to take their bytes, the client's silence is ours (as in xtaci/smux).
        if (!_readStalled && now - Volatile.Read(ref _lastReceived) >= (long)_options.KeepAliveTimeout.TotalMilliseconds)
        {
            if (_log.IsVerbose) _log.Verbose($"{_clientName}: nothing from the client for {_options.KeepAliveTimeout.TotalSeconds:0.#} s; closing the session");
            Stop(SmuxEndReason.KeepAliveTimeout);
            return;
        }
        if (LiveStreams == 0 && now - Volatile.Read(ref _lastData) >= (long)_options.IdleTimeout.TotalMilliseconds)
        {
            Stop(SmuxEndReason.IdleTimeout);
            return;
        }
        // A client that sends but never reads keeps the session busy and our writer stuck for ever.
        long writeStarted = Sender.WriteStarted;
        if (writeStarted != 0 && now - writeStarted >= (long)_options.IdleTimeout.TotalMilliseconds)
        {
            if (_log.IsVerbose) _log.Verbose($"{_clientName}: the client took nothing of a write for {_options.IdleTimeout.TotalSeconds:0.#} s; session cut without a close frame");
            CutStalledClient();
            return;
        }
        Reschedule(NextTickDelay(now));
    }

    /// <summary>
    /// The write to the client is aborted at once, with no grace: cut short it leaves part of a frame on
    /// the wire, so no close frame can follow; the connection is simply dropped.
    /// </summary>
    private void CutStalledClient()
    {
        Stop(SmuxEndReason.ClientStalled);
        try { _abortClientWrites.Cancel(); }
        catch (ObjectDisposedException) { }
    }

    /// <summary>The time until the next keepalive is due or a timeout could run out, whichever is first.</summary>
    private TimeSpan NextTickDelay(long now)
    {
        long keepAlive = Volatile.Read(ref _lastKeepAlive) + (long)_options.KeepAliveInterval.TotalMilliseconds - now;
        long silence = Volatile.Read(ref _lastReceived) + (long)_options.KeepAliveTimeout.TotalMilliseconds - now;
        long next = Math.Min(keepAlive, silence);
        // With a stream open the idle timeout does not run; the stream's end reschedules.
        if (LiveStreams == 0) next = Math.Min(next, Volatile.Read(ref _lastData) + (long)_options.IdleTimeout.TotalMilliseconds - now);
        // A write that starts after this tick is looked at within the idle timeout, and then at its own deadline.
        long writeStarted = Sender.WriteStarted;
        next = Math.Min(next, writeStarted != 0 ? writeStarted + (long)_options.IdleTimeout.TotalMilliseconds - now : (long)_options.IdleTimeout.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(Math.Max(next, 1));
    }

    private void Reschedule(TimeSpan delay)
    {
        lock (_timerLock)
        {
            try { _timer?.Change(delay, Timeout.InfiniteTimeSpan); }
            catch (ObjectDisposedException) { }
        }
    }

    private void Stop(SmuxEndReason reason)
    {
        Interlocked.CompareExchange(ref _endReason, (int)reason, -1);
        try
        {
            _stop.Cancel();
            _abortClientWrites.CancelAfter(_options.CloseHandshakeTimeout);
        }
        catch (ObjectDisposedException)
        {
        }
        Sender.Stop();
        _room.Set();
        SmuxStream[] streams;
        lock (_streamsLock) streams = [.. _streams.Values];
        foreach (var stream in streams) stream.Abort();
    }
}
