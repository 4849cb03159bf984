using Microsoft.Extensions.Logging;
using Mtt.Core.Diagnostics;
using Mtt.Core.Relay;
using Mtt.Core.Transport;
using Mtt.Core.WebSockets;

namespace Mtt.Core.Mux;

/// <summary>
/// The server side of one smux session (docs/protocol.md §4) over a client's WebSocket byte stream. One read
/// loop parses frames and dispatches them to streams (<see cref="SmuxStreamRegistry"/>); one
/// <see cref="SmuxFrameSender"/> writes every frame back; each SYN becomes a <see cref="SmuxStream"/>
/// with its own backend connection. Its <see cref="TunnelLifetime{TReason}"/> ends it (idle, stalled
/// client, stop, revocation) and ticks its <see cref="SmuxKeepAlive"/>.
/// <para>
/// Backpressure: in version 1 the only limit smux has is the session's receive budget. Once the bytes
/// read but not yet written to backends reach it, the session stops reading the WebSocket, so a
/// backend that stops reading can stall the whole session once its stream has taken the budget. That
/// is inherent to version 1, and the Go server behaves the same. In version 2 each stream has its own
/// window (we send UPD as our backend takes the bytes, and respect the client's), so a stalled backend
/// only stalls its own stream; a session then holds at most one window per stream.
/// </para>
/// </summary>
internal sealed class SmuxSession : ITunnelWatch
{
    private readonly WebSocketConnection _client;
    private readonly Func<CancellationToken, Task<(SocketTransport? Connection, string? Error)>> _dial;
    private readonly SmuxSessionOptions _options;
    private readonly ILogger _log;
    private readonly string _clientName;
    private readonly string _backendName;
    private readonly SmuxStreamRegistry _streams;
    private readonly TunnelLifetime<SmuxEndReason> _lifetime;
    private readonly SmuxKeepAlive _keepAlive;
    private readonly SmuxDispatcher _dispatcher;
    private readonly AsyncSignal _streamEnded = new();
    private int _streamsOpened;
    private long _bytesToClient;

    public SmuxSession(
        WebSocketConnection client,
        Func<CancellationToken, Task<(SocketTransport? Connection, string? Error)>> dial,
        SmuxSessionOptions options,
        ILogger log,
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
        _streams = new SmuxStreamRegistry(options.MaxStreams);
        // The grace for a write in progress once the session stops is the close handshake's: the close follows it.
        _lifetime = new TunnelLifetime<SmuxEndReason>(options.Time, options.IdleTimeout, options.CloseHandshakeTimeout,
            SmuxEndReason.IdleTimeout, SmuxEndReason.ClientStalled, this);
        _keepAlive = new SmuxKeepAlive(_lifetime.Now, _lifetime.ToTicks(options.KeepAliveInterval), _lifetime.ToTicks(options.KeepAliveTimeout));
        Sender = new SmuxFrameSender(client, _lifetime);
        _dispatcher = new SmuxDispatcher(this, client, _streams, _keepAlive, options, log, clientName);
    }

    public SmuxFrameSender Sender { get; }

    /// <summary>The user and server counters this session's bytes and streams go to, if any.</summary>
    internal TunnelMeter Meter { get; }

    /// <summary>The session's clock, for its streams' rate pacing.</summary>
    internal TimeProvider Time => _options.Time;

    /// <summary>The most client bytes this session ever held for its backends at once (memory bound checks).</summary>
    public int PeakQueuedBytes => _dispatcher.PeakQueuedBytes;

    /// <summary>For tests: completes when the read loop first stops for want of room (budget or window).</summary>
    internal Task FirstReadStall => _dispatcher.FirstReadStall;

    /// <summary>For tests: completes once the client bytes held for backends at once first reach <paramref name="bytes"/>.</summary>
    internal Task WhenHeld(int bytes) => _dispatcher.WhenHeld(bytes);

    /// <summary>Streams registered: open, or ended and still finishing.</summary>
    public int LiveStreams => _streams.Count;

    public async Task<SmuxSessionResult> RunAsync(CancellationToken serverStopping)
    {
        // A user deleted (or moved to another dst) ends the session and its streams with 1008.
        _lifetime.Start(serverStopping, SmuxEndReason.ServerStopping, Meter.Revoked, SmuxEndReason.UserRemoved, Meter.LimitReached, SmuxEndReason.LimitReached);
        var sender = RunSenderAsync();

        SmuxEndReason reason;
        try
        {
            reason = await _dispatcher.RunAsync(_lifetime.Stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_lifetime.IsStopping)
        {
            reason = _lifetime.EndReason ?? SmuxEndReason.ServerStopping;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // A reset or a TLS failure on the client's connection; an InvalidOperationException is the server's own
            // fault, ending the session the same way, and the log says so.
            if (!ConnectionFault.IsConnectionFailure(e)) MuxLog.SessionFault(_log, _clientName, e.GetType().Name, e);
            reason = SmuxEndReason.ClientDisconnected;
        }

        _lifetime.Stop(reason);
        reason = _lifetime.EndReason!.Value;
        await _lifetime.StopWatchingAsync().ConfigureAwait(false);
        await sender.ConfigureAwait(false);
        while (LiveStreams > 0) await _streamEnded.WaitAsync().ConfigureAwait(false);
        _dispatcher.Dispose();

        ushort? closeCode = reason switch
        {
            SmuxEndReason.SmuxProtocolError => WebSocketCloseCodes.ProtocolError,
            SmuxEndReason.KeepAliveTimeout or SmuxEndReason.IdleTimeout => WebSocketCloseCodes.NormalClosure,
            SmuxEndReason.ServerStopping => WebSocketCloseCodes.GoingAway,
            SmuxEndReason.UserRemoved or SmuxEndReason.LimitReached => WebSocketCloseCodes.PolicyViolation,
            _ => null,
        };
        if (closeCode is { } code)
        {
            using var closeTimeout = new CancellationTokenSource(_options.CloseHandshakeTimeout, _options.Time);
            await _client.SendCloseAsync(code, closeTimeout.Token).ConfigureAwait(false);
        }
        _lifetime.Dispose();
        return new SmuxSessionResult(reason, _dispatcher.ProtocolError, _streamsOpened, _dispatcher.StreamsRefused,
            _dispatcher.BytesFromClient, Interlocked.Read(ref _bytesToClient));
    }

    private async Task RunSenderAsync()
    {
        await Task.Yield();
        if (!await Sender.RunAsync(_lifetime.ClientWrites).ConfigureAwait(false)) _lifetime.Stop(SmuxEndReason.ClientDisconnected);
    }

    /// <summary>
    /// Opens a stream for a SYN (see <see cref="SmuxStreamRegistry.TryOpen"/>). A stream gives its place
    /// back the moment it has ended both ways (<see cref="OnStreamEndedBothWays"/>), before its last frame
    /// is written or its backend closed, so a client that opens a new stream as soon as it has seen one
    /// end is never refused.
    /// </summary>
    public SmuxOpenOutcome TryOpen(uint id, byte version)
    {
        var outcome = _streams.TryOpen(id, version, this, out var stream);
        if (stream is null) return outcome;
        Interlocked.Increment(ref _streamsOpened);
        Meter.StreamOpened();
        _ = stream.RunAsync(_dial);
        return outcome;
    }

    /// <summary>Called once per stream: both sides have sent FIN (or the stream is gone), so it gives its place back.</summary>
    public void OnStreamEndedBothWays() => _streams.ReleasePlace();

    /// <summary>A stream's queued bytes reached its backend, or were dropped with it: the reader may go on (see <see cref="SmuxDispatcher.OnDelivered"/>).</summary>
    public void OnDelivered(int count, bool resumeHere = false) => _dispatcher.OnDelivered(count, resumeHere);

    /// <summary>Data moved: the idle clock restarts.</summary>
    public void Touch() => _lifetime.Touch();

    public void OnStreamOpened(SmuxStream stream)
    {
        MuxLog.StreamOpened(_log, _clientName, stream.Id, _backendName);
    }

    public void OnBackendFailed(SmuxStream stream, string error)
    {
        Meter.DialFailed();
        MuxLog.StreamBackendFailed(_log, _clientName, stream.Id, _backendName, error);
    }

    public void OnStreamEnded(SmuxStream stream, string outcome, long bytesFromClient, long bytesToClient)
    {
        int left = _streams.Remove(stream.Id);
        Interlocked.Add(ref _bytesToClient, bytesToClient);
        Meter.StreamClosed();
        Touch();
        _dispatcher.Wake();
        _streamEnded.Set();
        MuxLog.StreamEnded(_log, _clientName, stream.Id, outcome, bytesFromClient, bytesToClient);
        // The idle clock starts now; make sure the watchdog looks again by then.
        if (left == 0) _lifetime.WatchAgain();
    }

    bool ITunnelWatch.IdleAllowed => LiveStreams == 0;

    long ITunnelWatch.NextDeadline => _keepAlive.NextDeadline;

    bool ITunnelWatch.Check(long now)
    {
        if (_keepAlive.TakeNopDue(now)) Sender.RequestKeepAlive();
        if (!_keepAlive.IsSilent(now)) return true;
        MuxLog.KeepAliveTimedOut(_log, _clientName, _options.KeepAliveTimeout.TotalSeconds);
        _lifetime.Stop(SmuxEndReason.KeepAliveTimeout);
        return false;
    }

    void ITunnelWatch.OnClientStalled()
    {
        MuxLog.SessionClientStalled(_log, _clientName, _options.IdleTimeout.TotalSeconds);
    }

    /// <summary>The session is stopping: the sender refuses new frames, the reader wakes, every stream stops.</summary>
    void ITunnelWatch.OnStopping()
    {
        Sender.Stop();
        _dispatcher.Wake();
        foreach (var stream in _streams.Snapshot()) stream.Abort();
    }
}
