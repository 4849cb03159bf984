using Microsoft.Extensions.Logging;
using Mtt.Core.Diagnostics;
using Mtt.Core.Limits;
using Mtt.Core.Relay;
using Mtt.Core.WebSockets;

namespace Mtt.Core.Mux;

/// <summary>
/// The read side of an <see cref="SmuxSession"/>: reads the client's WebSocket byte stream into a
/// fixed buffer, parses smux frames and hands each to its stream: data to the stream's backend (written
/// there, and flushed before the reader waits; <see cref="SmuxStreamInput"/>), SYN to
/// the session to open a stream (or refuse it), FIN and UPD to the stream. It stops reading while the
/// target of the next data has no room (the session's budget in version 1, the stream's window in
/// version 2), so what the client sends is never buffered beyond those bounds.
/// </summary>
internal sealed class SmuxDispatcher
{
    // A whole client frame (16 KiB of data and its header) fits, so parsing seldom waits on a split frame;
    // fixed, so unparsed input stays bounded whatever the client sends.
    private const int ReceiveBufferSize = 32 * 1024;

    private readonly SmuxSession _session;
    private readonly WebSocketConnection _client;
    private readonly SmuxStreamRegistry _streams;
    private readonly SmuxKeepAlive _keepAlive;
    private readonly TimeProvider _time;
    private readonly int _maxStreams;
    private readonly int _receiveBudget;
    private readonly ILogger _log;
    private readonly string _clientName;
    private readonly AsyncSignal _room = new();
    private readonly SmuxReceiveBuffer _buffer = new(ReceiveBufferSize);
    private readonly SmuxWrittenStreams _written = new();
    private SmuxFrameParser _parser;
    private int _queued;
    private int _peakQueued;
    private TaskCompletionSource? _firstStall;
    // For tests: completes once the bytes held reach _heldWanted.
    private TaskCompletionSource? _held;
    private int _heldWanted;
    // A SYN read while ended streams still finishing fill the registry; opened (or refused) once one is gone.
    private uint? _waitingSyn;
    private int _streamsRefused;
    private long _bytesFromClient;
    // Made the first time the session's user is rate limited: the whole session's reads wait on the user's bucket.
    private RatePacer? _pacer;

    public SmuxDispatcher(SmuxSession session, WebSocketConnection client, SmuxStreamRegistry streams, SmuxKeepAlive keepAlive,
        SmuxSessionOptions options, ILogger log, string clientName)
    {
        _session = session;
        _client = client;
        _streams = streams;
        _keepAlive = keepAlive;
        _time = options.Time;
        _maxStreams = options.MaxStreams;
        _receiveBudget = options.ReceiveBudget;
        _log = log;
        _clientName = clientName;
    }

    /// <summary>The most client bytes held for backends at once.</summary>
    public int PeakQueuedBytes => Volatile.Read(ref _peakQueued);

    /// <summary>Completes when the read loop first stops for want of room (budget or window).</summary>
    public Task FirstReadStall
    {
        get
        {
            Interlocked.CompareExchange(ref _firstStall, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);
            if (_keepAlive.ReadStalled) _firstStall.TrySetResult();
            return _firstStall.Task;
        }
    }

    /// <summary>For tests: completes once the client bytes held for backends at once first reach <paramref name="bytes"/>. One waiter.</summary>
    internal Task WhenHeld(int bytes)
    {
        _heldWanted = bytes;
        Volatile.Write(ref _held, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (PeakQueuedBytes >= bytes) _held!.TrySetResult();
        return _held!.Task;
    }

    public SmuxProtocolError ProtocolError => _parser.Error;

    public int StreamsRefused => Volatile.Read(ref _streamsRefused);

    public long BytesFromClient => Interlocked.Read(ref _bytesFromClient);

    private enum Step
    {
        NeedMoreData,
        NeedRoom,
        Refuse,
        ProtocolError,
    }

    /// <summary>Reads and dispatches until the client closes, leaves or breaks the protocol; returns why.</summary>
    public async Task<SmuxEndReason> RunAsync(CancellationToken token)
    {
        while (true)
        {
            switch (ProcessBuffered(out uint refused))
            {
                case Step.NeedMoreData:
                    int allowed = _buffer.PrepareFree();
                    var limiter = _session.Meter.User.Limiter;
                    var bucket = limiter.Upstream;
                    if (bucket is not null)
                    {
                        FlushWritten();
                        // Not read until the user's bucket allows: TCP pushes back on the client (frame headers count too).
                        _pacer ??= new RatePacer(limiter, _time, token);
                        allowed = await _pacer.AcquireAsync(bucket, allowed).ConfigureAwait(false);
                        token.ThrowIfCancellationRequested();
                    }
                    var receiving = _client.ReceiveAsync(_buffer, allowed, token);
                    // Backends are flushed before the reader would wait, or once enough is written: while the client's
                    // bytes keep coming, one send carries several receives, as the old upstream loop's did.
                    if (!receiving.IsCompleted || _written.Bytes >= SmuxWrittenStreams.MaxBytesBeforeFlush) FlushWritten();
                    var received = await receiving.ConfigureAwait(false);
                    bucket?.Return(allowed - received.Bytes);
                    // The client is gone or done: what it sent before still goes out.
                    if (received.Status != ReceiveStatus.Data) FlushWritten();
                    switch (received.Status)
                    {
                        case ReceiveStatus.Data:
                            _keepAlive.Received(_time.GetTimestamp());
                            continue;
                        case ReceiveStatus.Closed:
                            return SmuxEndReason.ClientClosed;
                        case ReceiveStatus.Ended:
                            return SmuxEndReason.ClientDisconnected;
                        default:
                            return SmuxEndReason.WebSocketProtocolError;
                    }

                case Step.NeedRoom:
                    _keepAlive.ReadStalled = true;
                    Volatile.Read(ref _firstStall)?.TrySetResult();
                    await _room.WaitAsync().ConfigureAwait(false);
                    _keepAlive.ReadStalled = false;
                    // The client was not silent, we were not reading: the keepalive clock restarts.
                    _keepAlive.Received(_time.GetTimestamp());
                    token.ThrowIfCancellationRequested();
                    continue;

                case Step.Refuse:
                    await RefuseAsync(refused, token).ConfigureAwait(false);
                    continue;

                default:
                    MuxLog.ProtocolError(_log, _clientName, _parser.Error);
                    return SmuxEndReason.SmuxProtocolError;
            }
        }
    }

    /// <summary>
    /// Parses and dispatches everything buffered, until it needs more input, room, or a refusal sent; before any
    /// wait but for input (see <see cref="RunAsync"/>), flushes the backends it wrote to, once each. Bytes that
    /// reached them at once leave the budget here, so a stop for room that they free is no stop.
    /// </summary>
    private Step ProcessBuffered(out uint refused)
    {
        while (true)
        {
            var step = DispatchBuffered(out refused);
            if (step == Step.NeedMoreData) return step;
            if (FlushWritten() == 0 || step != Step.NeedRoom) return step;
        }
    }

    /// <summary>Flushes every backend written to since the last flush; the bytes that reached them at once leave the budget.</summary>
    private int FlushWritten()
    {
        int released = _written.FlushAll();
        if (released > 0) Interlocked.Add(ref _queued, -released);
        return released;
    }

    private Step DispatchBuffered(out uint refused)
    {
        refused = 0;
        if (_waitingSyn is { } waiting && !TryOpenOrRefuse(waiting, ref refused, out var step)) return step;
        while (true)
        {
            var input = _buffer.Readable;
            SmuxStream? target = null;
            if (_parser.DataRemaining > 0 && !input.IsEmpty && (target = _streams.Find(_parser.DataStreamId)) is not null)
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
                    // Written to the backend at once, or held until it takes it; data for an unknown or finished
                    // stream is read and dropped, as xtaci/smux does.
                    if (target is not null)
                    {
                        var outcome = target.TryQueue(input[..consumed]);
                        if (outcome != SmuxInputOutcome.Dropped)
                        {
                            AddQueued(consumed);
                            _written.Took(target, outcome, consumed);
                        }
                    }
                    Interlocked.Add(ref _bytesFromClient, consumed);
                    _session.Meter.FromClient(consumed);
                    _buffer.Consume(consumed);
                    _session.Touch();
                    continue;

                case SmuxParseStatus.Frame:
                    _buffer.Consume(consumed);
                    if (_session.Sender.Version == 0) _session.Sender.Version = _parser.Version;
                    switch (header.Command)
                    {
                        case SmuxCommand.Syn:
                            if (!TryOpenOrRefuse(header.StreamId, ref refused, out var synStep)) return synStep;
                            break;
                        case SmuxCommand.Fin:
                            _streams.Find(header.StreamId)?.OnClientFin();
                            break;
                        case SmuxCommand.Upd:
                            _streams.Find(header.StreamId)?.OnUpdate(consumedCount, window);
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
        switch (_session.TryOpen(id, _parser.Version))
        {
            case SmuxOpenOutcome.Refused:
                refused = id;
                step = Step.Refuse;
                return false;
            case SmuxOpenOutcome.NoRoomYet:
                _waitingSyn = id;
                step = Step.NeedRoom;
                return false;
            default:
                step = default;
                return true;
        }
    }

    private async ValueTask RefuseAsync(uint id, CancellationToken token)
    {
        Interlocked.Increment(ref _streamsRefused);
        MuxLog.StreamRefused(_log, _clientName, id, _maxStreams);
        // Rare, and the read loop may wait for it: a client flooding SYNs it does not read the answers to stalls only itself.
        byte[] frame = new byte[SmuxFrameHeader.Size];
        new SmuxFrameHeader(_parser.Version, SmuxCommand.Fin, 0, id).Write(frame);
        await _client.SendAsync(new System.Buffers.ReadOnlySequence<byte>(frame), token).ConfigureAwait(false);
    }

    private int RoomFor(SmuxStream stream) => _parser.Version == SmuxFrameHeader.Version2
        ? SmuxStream.ReceiveWindow - stream.QueuedBytes
        : _receiveBudget - Volatile.Read(ref _queued);

    private void AddQueued(int count)
    {
        int queued = Interlocked.Add(ref _queued, count);
        if (Volatile.Read(ref _held) is { } held && queued >= _heldWanted) held.TrySetResult();
        int peak = Volatile.Read(ref _peakQueued);
        while (queued > peak)
        {
            int seen = Interlocked.CompareExchange(ref _peakQueued, queued, peak);
            if (seen == peak) break;
            peak = seen;
        }
    }

    /// <summary>
    /// A stream's queued bytes reached its backend, or were dropped with it: the reader may go on, on this thread when
    /// <paramref name="resumeHere"/> (the stream's upstream loop, between two flushes) and on the thread pool otherwise.
    /// </summary>
    public void OnDelivered(int count, bool resumeHere)
    {
        Interlocked.Add(ref _queued, -count);
        if (resumeHere) _room.SetHere();
        else _room.Set();
    }

    /// <summary>A stream ended or the session is stopping: a reader waiting for room looks again.</summary>
    public void Wake() => _room.Set();

    public void Dispose()
    {
        _pacer?.Dispose();
        _buffer.Dispose();
    }
}
