using Mtt.Core.Diagnostics;
using Mtt.Core.Limits;
using Mtt.Core.Transport;
using Mtt.Core.WebSockets;

namespace Mtt.Core.Relay;

/// <summary>
/// One plain (smux_off) tunnel: the client's WebSocket byte stream relayed to and from one backend
/// connection, with backpressure both ways; its <see cref="TunnelLifetime{TReason}"/> ends it on the
/// idle timeout, which also bounds a write to the client that makes no progress: a client that sends
/// but never reads keeps the tunnel busy, and would otherwise hold its connection and its backend for ever.
/// </summary>
internal sealed class WebSocketTunnel
{
    // Client payload decoded between two flushes to the backend: bounds what one read can queue
    // before the backend's pipe pushes back.
    private const int MaxPayloadPerFlush = 64 * 1024;

    private readonly WebSocketConnection _client;
    private readonly SocketTransport _backend;
    private readonly TimeSpan _closeHandshakeTimeout;
    private readonly TunnelLifetime<TunnelEndReason> _lifetime;
    private readonly TunnelMeter _meter;
    // Written by the upstream loop only and read after both have ended: no atomics needed on the hot path.
    private long _bytesFromClient;
    // Written by the upstream loop before it ends the lifetime, read after both loops are done.
    private Exception? _fault;
    // Made the first time the user is rate limited; disposed once both loops have ended.
    private RatePacer? _upstreamPacer;

    public WebSocketTunnel(WebSocketConnection client, SocketTransport backend, TimeSpan idleTimeout, TimeSpan closeHandshakeTimeout, TunnelMeter meter, TimeProvider time)
    {
        _meter = meter;
        _client = client;
        _backend = backend;
        _closeHandshakeTimeout = closeHandshakeTimeout;
        _lifetime = new TunnelLifetime<TunnelEndReason>(time, idleTimeout, closeHandshakeTimeout, TunnelEndReason.IdleTimeout, TunnelEndReason.ClientStalled);
    }

    public async Task<TunnelResult> RunAsync(CancellationToken serverStopping)
    {
        // A user deleted (or moved to another dst) closes its tunnels with 1008.
        // So does a quota spent or an expiry reached.
        _lifetime.Start(serverStopping, TunnelEndReason.ServerStopping, _meter.Revoked, TunnelEndReason.UserRemoved, _meter.LimitReached, TunnelEndReason.LimitReached);
        var upstream = CopyClientToBackendAsync();
        var downstream = BackendToClientCopy.RunAsync(_backend, new WebSocketClientSink(_client, _lifetime, _meter), _meter, _lifetime.Time, _lifetime.Stopping);
        var first = await Task.WhenAny(upstream, downstream).ConfigureAwait(false);

        if (first == downstream && _lifetime.EndReason == TunnelEndReason.BackendClosed)
        {
            // Our close 1000 is out; give the client a moment to answer it before dropping the connection.
            await Task.WhenAny(upstream, Task.Delay(_closeHandshakeTimeout, _lifetime.Time)).ConfigureAwait(false);
        }

        // Whichever side ended first, the other is done too.
        _lifetime.StopLoops();
        await _lifetime.StopWatchingAsync().ConfigureAwait(false);
        await upstream.ConfigureAwait(false);
        long bytesToClient = await downstream.ConfigureAwait(false);

        var reason = _lifetime.EndReason ?? TunnelEndReason.ServerStopping;
        // A backend failure seen first by the upstream loop (a write to a reset backend) has no close out yet.
        if (reason is TunnelEndReason.IdleTimeout or TunnelEndReason.ServerStopping or TunnelEndReason.UserRemoved or TunnelEndReason.LimitReached or TunnelEndReason.BackendFailed)
        {
            using var closeTimeout = new CancellationTokenSource(_closeHandshakeTimeout, _lifetime.Time);
            var code = reason switch
            {
                TunnelEndReason.IdleTimeout => WebSocketCloseCodes.NormalClosure,
                TunnelEndReason.UserRemoved or TunnelEndReason.LimitReached => WebSocketCloseCodes.PolicyViolation,
                TunnelEndReason.BackendFailed => WebSocketCloseCodes.InternalError,
                _ => WebSocketCloseCodes.GoingAway,
            };
            await _client.SendCloseAsync(code, closeTimeout.Token).ConfigureAwait(false);
        }

        await _backend.DisposeAsync().ConfigureAwait(false);
        _upstreamPacer?.Dispose();
        _lifetime.Dispose();
        return new TunnelResult(reason, _bytesFromClient, bytesToClient, _backend.ShutdownKind, _backend.ShutdownError, _fault);
    }

    private async Task CopyClientToBackendAsync()
    {
        var token = _lifetime.Stopping;
        var backendOutput = _backend.Output;
        var limiter = _meter.User.Limiter;
        try
        {
            while (true)
            {
                // A rate-limited user's client is not read until its bucket allows: TCP pushes back on the client.
                int allowed = MaxPayloadPerFlush;
                var bucket = limiter.Upstream;
                if (bucket is not null)
                {
                    _upstreamPacer ??= new RatePacer(limiter, _lifetime.Time, token);
                    allowed = await _upstreamPacer.AcquireAsync(bucket, MaxPayloadPerFlush).ConfigureAwait(false);
                    if (allowed == 0) return;
                }
                var received = await _client.ReceiveAsync(backendOutput, allowed, token).ConfigureAwait(false);
                bucket?.Return(allowed - received.Bytes);
                _lifetime.Touch();
                if (received.Bytes > 0)
                {
                    _bytesFromClient += received.Bytes;
                    _meter.FromClient(received.Bytes);
                    if (!await FlushToBackendAsync(backendOutput, token).ConfigureAwait(false))
                    {
                        _lifetime.End(TunnelEndReason.BackendFailed);
                        return;
                    }
                }

                switch (received.Status)
                {
                    case ReceiveStatus.Data:
                        continue;
                    case ReceiveStatus.Closed:
                        _lifetime.End(TunnelEndReason.ClientClosed);
                        return;
                    case ReceiveStatus.Ended:
                        _lifetime.End(TunnelEndReason.ClientDisconnected);
                        return;
                    default:
                        _lifetime.End(TunnelEndReason.ClientProtocolError);
                        return;
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // A reset or a TLS failure on the client's connection: the tunnel is over either way. Anything else is
            // the server's own fault: it ends the tunnel the same way, and the end says so.
            if (!ConnectionFault.IsConnectionFailure(e)) _fault = e;
            _lifetime.End(TunnelEndReason.ClientDisconnected);
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
}
