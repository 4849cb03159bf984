using Mtt.Core.Diagnostics;
using Mtt.Core.Transport;
using Mtt.Core.WebSockets;

namespace Mtt.Core.Relay;

/// <summary>
/// One plain (smux_off) tunnel: the client's WebSocket byte stream relayed to and from one backend
/// connection, with backpressure both ways and an idle timeout. The idle timeout also bounds a write
/// to the client that makes no progress: a client that sends but never reads keeps the tunnel busy,
/// and would otherwise hold its connection and its backend for ever.
/// </summary>
internal sealed class WebSocketTunnel
{
    // Client payload decoded between two flushes to the backend: bounds what one read can queue
    // before the backend's pipe pushes back.
    private const int MaxPayloadPerFlush = 64 * 1024;

    private readonly WebSocketConnection _client;
    private readonly SocketTransport _backend;
    private readonly TimeSpan _idleTimeout;
    private readonly TimeSpan _closeHandshakeTimeout;
    // Stopping cancels reads (and writes to the backend, which is dropped anyway) at once. A write to the
    // client is let finish for a grace period: cut short, it would leave half a frame on the wire and no
    // close frame could follow it.
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _abortClientWrites = new();
    private readonly TunnelMeter _meter;
    private Timer? _idleTimer;
    private long _lastActivity = Environment.TickCount64;
    // When the write to the client in progress began; 0 while none is.
    private long _clientWriteStarted;
    // Each written by one loop only and read after both have ended: no atomics needed on the hot path.
    private long _bytesFromClient;
    private long _bytesToClient;
    private int _endReason = -1;

    public WebSocketTunnel(WebSocketConnection client, SocketTransport backend, TimeSpan idleTimeout, TimeSpan closeHandshakeTimeout, TunnelMeter meter)
    {
        _meter = meter;
        _client = client;
        _backend = backend;
        _idleTimeout = idleTimeout;
        _closeHandshakeTimeout = closeHandshakeTimeout;
    }

    public async Task<TunnelResult> RunAsync(CancellationToken serverStopping)
    {
        using var stopRegistration = serverStopping.UnsafeRegister(static state => ((WebSocketTunnel)state!).Stop(TunnelEndReason.ServerStopping), this);
        // Once per tunnel: a user deleted (or moved to another dst) closes its tunnels with 1008; fires at once if already revoked.
        using var revokedRegistration = _meter.Revoked.UnsafeRegister(static state => ((WebSocketTunnel)state!).Stop(TunnelEndReason.UserRemoved), this);
        _idleTimer = new Timer(static state => ((WebSocketTunnel)state!).CheckIdle(), this, _idleTimeout, Timeout.InfiniteTimeSpan);
        var upstream = CopyClientToBackendAsync();
        var downstream = CopyBackendToClientAsync();
        var first = await Task.WhenAny(upstream, downstream).ConfigureAwait(false);

        if (first == downstream && EndReason == TunnelEndReason.BackendClosed)
        {
            // Our close 1000 is out; give the client a moment to answer it before dropping the connection.
            await Task.WhenAny(upstream, Task.Delay(_closeHandshakeTimeout)).ConfigureAwait(false);
        }

        // Whichever side ended first, the other is done too.
        StopLoops();
        await _idleTimer.DisposeAsync().ConfigureAwait(false);
        await upstream.ConfigureAwait(false);
        await downstream.ConfigureAwait(false);

        var reason = EndReason ?? TunnelEndReason.ServerStopping;
        // A backend failure seen first by the upstream loop (a write to a reset backend) has no close out yet.
        if (reason is TunnelEndReason.IdleTimeout or TunnelEndReason.ServerStopping or TunnelEndReason.UserRemoved or TunnelEndReason.BackendFailed)
        {
            using var closeTimeout = new CancellationTokenSource(_closeHandshakeTimeout);
            var code = reason switch
            {
                TunnelEndReason.IdleTimeout => WebSocketCloseCodes.NormalClosure,
                TunnelEndReason.UserRemoved => WebSocketCloseCodes.PolicyViolation,
                TunnelEndReason.BackendFailed => WebSocketCloseCodes.InternalError,
                _ => WebSocketCloseCodes.GoingAway,
            };
            await _client.SendCloseAsync(code, closeTimeout.Token).ConfigureAwait(false);
        }

        await _backend.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
        _abortClientWrites.Dispose();
        return new TunnelResult(reason, _bytesFromClient, _bytesToClient);
    }

    private TunnelEndReason? EndReason
    {
        get
        {
            int value = Volatile.Read(ref _endReason);
            return value < 0 ? null : (TunnelEndReason)value;
        }
    }

    private async Task CopyClientToBackendAsync()
    {
        var token = _stop.Token;
        var backendOutput = _backend.Output;
        try
        {
            while (true)
            {
                var received = await _client.ReceiveAsync(backendOutput, MaxPayloadPerFlush, token).ConfigureAwait(false);
                Touch();
                if (received.Bytes > 0)
                {
                    _bytesFromClient += received.Bytes;
                    _meter.FromClient(received.Bytes);
                    if (!await FlushToBackendAsync(backendOutput, token).ConfigureAwait(false))
                    {
                        End(TunnelEndReason.BackendFailed);
                        return;
                    }
                }

                switch (received.Status)
                {
                    case ReceiveStatus.Data:
                        continue;
                    case ReceiveStatus.Closed:
                        End(TunnelEndReason.ClientClosed);
                        return;
                    case ReceiveStatus.Ended:
                        End(TunnelEndReason.ClientDisconnected);
                        return;
                    default:
                        End(TunnelEndReason.ClientProtocolError);
                        return;
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception)
        {
            // A reset or a TLS failure on the client's connection: the tunnel is over either way.
            End(TunnelEndReason.ClientDisconnected);
        }
        finally
        {
            // Client close or EOF: the backend sees the end of its input (docs/protocol.md §7.3). Every payload
            // byte was flushed before we got here; only an aborted flush leaves any behind.
            _backend.ShutdownSend();
        }
    }

    /// <summary>
    /// False when the backend can take no more (it reset or went away). Told apart from a failure of the
    /// client's connection, so the client hears 1011 instead of having its connection dropped.
    /// </summary>
    private static async ValueTask<bool> FlushToBackendAsync(System.IO.Pipelines.PipeWriter backendOutput, CancellationToken token)
    {
        try
        {
            var flush = await backendOutput.FlushAsync(token).ConfigureAwait(false);
            return !flush.IsCompleted;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            return false;
        }
    }

    private async Task CopyBackendToClientAsync()
    {
        var token = _stop.Token;
        var backendInput = _backend.Input;
        while (true)
        {
            System.IO.Pipelines.ReadResult read;
            try
            {
                read = await backendInput.ReadAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                End(TunnelEndReason.BackendFailed);
                await _client.SendCloseAsync(WebSocketCloseCodes.InternalError, token).ConfigureAwait(false);
                return;
            }

            var buffer = read.Buffer;
            if (!buffer.IsEmpty)
            {
                Touch();
                bool delivered;
                Volatile.Write(ref _clientWriteStarted, Environment.TickCount64);
                try
                {
                    delivered = await _client.SendAsync(buffer, _abortClientWrites.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (_abortClientWrites.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception)
                {
                    delivered = false;
                }
                finally
                {
                    Volatile.Write(ref _clientWriteStarted, 0);
                }

                if (!delivered)
                {
                    End(TunnelEndReason.ClientDisconnected);
                    return;
                }
                _bytesToClient += buffer.Length;
                _meter.ToClient(buffer.Length);
            }
            backendInput.AdvanceTo(buffer.End);

            if (read.IsCompleted)
            {
                // A reset the upstream loop's write met first reads here as a plain end: ask the socket. Once
                // the upstream has ended (and shut down its sending side) the reason is settled anyway.
                End(_backend.WasReset() ? TunnelEndReason.BackendFailed : TunnelEndReason.BackendClosed);
                var code = EndReason == TunnelEndReason.BackendFailed ? WebSocketCloseCodes.InternalError : WebSocketCloseCodes.NormalClosure;
                await _client.SendCloseAsync(code, token).ConfigureAwait(false);
                return;
            }
        }
    }

    private void Touch() => Volatile.Write(ref _lastActivity, Environment.TickCount64);

    private void CheckIdle()
    {
        long now = Environment.TickCount64;
        long timeoutMs = (long)_idleTimeout.TotalMilliseconds;
        long writeStarted = Volatile.Read(ref _clientWriteStarted);
        if (writeStarted != 0 && now - writeStarted >= timeoutMs)
        {
            CutStalledClient();
            return;
        }
        long idleMs = now - Volatile.Read(ref _lastActivity);
        if (idleMs < timeoutMs)
        {
            // Data flowed since the timer was set: look again when the quiet period could next run out,
            // or the write in progress could have gone without progress for too long.
            long next = timeoutMs - idleMs;
            if (writeStarted != 0) next = Math.Min(next, writeStarted + timeoutMs - now);
            try { _idleTimer?.Change(TimeSpan.FromMilliseconds(Math.Max(next, 1)), Timeout.InfiniteTimeSpan); }
            catch (ObjectDisposedException) { }
            return;
        }
        Stop(TunnelEndReason.IdleTimeout);
    }

    /// <summary>
    /// The client has taken nothing of a write for the idle timeout: the write is aborted at once, with no
    /// grace. Cut short it leaves part of a frame on the wire, so no close frame can follow; the
    /// connection is simply dropped.
    /// </summary>
    private void CutStalledClient()
    {
        Stop(TunnelEndReason.ClientStalled);
        try { _abortClientWrites.Cancel(); }
        catch (ObjectDisposedException) { }
    }

    private void Stop(TunnelEndReason reason)
    {
        End(reason);
        StopLoops();
    }

    private void End(TunnelEndReason reason) => Interlocked.CompareExchange(ref _endReason, (int)reason, -1);

    private void StopLoops()
    {
        try
        {
            _stop.Cancel();
            _abortClientWrites.CancelAfter(_closeHandshakeTimeout);
        }
        catch (ObjectDisposedException)
        {
            // The tunnel has ended already.
        }
    }
}
