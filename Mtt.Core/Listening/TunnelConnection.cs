using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using Mtt.Core.ClientAddress;
using Mtt.Core.Diagnostics;
using Mtt.Core.Routing;
using Mtt.Core.Transport;
using Mtt.Core.Upgrade;

namespace Mtt.Core.Listening;

/// <summary>
/// One accepted connection, from the first byte to the last: the first-byte wait, a PROXY header, TLS,
/// then <see cref="UpgradeAdmission"/> (the request, its route, a refusal) and <see cref="AcceptedTunnel"/>
/// (the 101, the backend dial, the relay). What ends the connection is decided and logged here.
/// </summary>
internal sealed class TunnelConnection
{
    private readonly Socket _socket;
    private readonly TunnelServerOptions _options;
    private readonly ILogger _log;
    private readonly ServerMetrics _metrics;
    private readonly SemaphoreSlim? _handshakeSlots;
    private readonly PendingConnections? _pending;
    private readonly ConnectionPeer _peer;
    private readonly RouteStore _routes;
    // The listener's count of connections, told once this one has ended.
    private readonly Action? _ended;
    // What this connection counts against in _pending while it is in its handshake; null once it no longer does.
    private IPAddress? _pendingKey;

    /// <param name="handshakeSlots">Shared by the listener's connections: one slot per TLS handshake being computed (<see cref="TunnelServerOptions.MaxHandshakes"/>).</param>
    /// <param name="pending">Shared by the listener's connections: <see cref="TunnelServerOptions.MaxPendingPerAddress"/>.</param>
    /// <param name="pendingKey">Where the listener counted this connection in <paramref name="pending"/> at accept, if it did.</param>
    /// <param name="ended">Called once, as the connection has ended and its socket is closed.</param>
    public TunnelConnection(Socket socket, TunnelServerOptions options, RouteStore routes, ILogger log, ServerMetrics metrics,
        SemaphoreSlim? handshakeSlots = null, PendingConnections? pending = null, IPAddress? pendingKey = null, Action? ended = null)
    {
        _ended = ended;
        _routes = routes;
        _handshakeSlots = handshakeSlots;
        _pending = pending;
        _pendingKey = pendingKey;
        _metrics = metrics;
        _socket = socket;
        _options = options;
        _log = log;
        _peer = new ConnectionPeer(socket, log);
    }

    /// <summary>Runs the connection to its end; returns at its first wait, so the accept loop that calls it is free at once.</summary>
    public async Task RunAsync(CancellationToken serverStopping)
    {
        SocketTransport? transport = null;
        try
        {
            // Off the accept loop at once: whatever this connection does next, the loop is free. Here, not in a method of
            // the listener's around this one: an idle tunnel holds the state machine of each async method on its way.
            await Task.Yield();
            // One deadline for the whole opening, on the options' clock (tests drive it): the first-byte timeout while no
            // byte has come, then what is left of the handshake timeout. One source, one timer and one registration on the
            // server's stop per connection, where a source per timeout, each linked with the stop, cost four sources, two
            // timers and four registrations. Disposed as the handshake ends, not with the tunnel: an idle tunnel would otherwise keep them;
            // and dropped then, since this method's state machine lives as long as the tunnel and a disposed source it still
            // referenced would keep its timer and registrations (~0.4 KiB) for the tunnel's life.
            var time = _options.Time;
            long opened = time.GetTimestamp();
            bool firstByteFirst = _options.FirstByteTimeout < _options.HandshakeTimeout;
            CancellationTokenSource? deadline = new(firstByteFirst ? _options.FirstByteTimeout : _options.HandshakeTimeout, time);
            var stopping = serverStopping.UnsafeRegister(static source => ((CancellationTokenSource)source!).Cancel(), deadline);
            bool awaitingFirstByte = true;

            (UpgradeRequest Request, Route Route)? accepted;
            try
            {
                await FirstByte.WaitAsync(_socket, deadline.Token).ConfigureAwait(false);
                // Fired between the byte's arrival and here: it came at the deadline, which counts as not in time.
                deadline.Token.ThrowIfCancellationRequested();
                awaitingFirstByte = false;
                if (firstByteFirst) deadline.CancelAfter(RemainingOf(_options.HandshakeTimeout, time.GetElapsedTime(opened)));
                // Section 2 of the PROXY protocol spec: nothing of the connection is processed before a whole valid header.
                if (_options.RequireProxyHeader && !await ReadProxyHeaderAsync(deadline.Token).ConfigureAwait(false)) return;
                // A slot is held only while TLS records are being computed on, never while waiting for the client; waiting
                // for one counts against the handshake timeout. A plain head takes none: its parse is synchronous and
                // bounded (8 KiB), so no more of them run at once than there are threads, and a slot would only add a wait.
                transport = _options.Certificate is not { } certificate ? SocketTransport.CreatePlain(_socket)
                    : _options.TlsEngine == TlsEngine.OpenSsl
                        ? await SocketTransport.CreateOpenSslAsync(_socket, certificate.Current, _handshakeSlots, deadline.Token).ConfigureAwait(false)
                        : await SocketTransport.CreateTlsAsync(_socket, certificate.Current, _handshakeSlots, deadline.Token).ConfigureAwait(false);
                // Made for the handshake alone: an idle tunnel does not keep it.
                accepted = await new UpgradeAdmission(_options, _routes, _log, _metrics).ReadAsync(transport, _peer, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !serverStopping.IsCancellationRequested)
            {
                if (awaitingFirstByte && firstByteFirst)
                {
                    _metrics.HandshakeRefused(HandshakeRefusal.FirstByteTimeout);
                    ListeningLog.FirstByteTimedOut(_log, _peer.Display, _options.FirstByteTimeout.TotalSeconds);
                }
                else
                {
                    _metrics.HandshakeRefused(HandshakeRefusal.Timeout);
                    ListeningLog.HandshakeTimedOut(_log, _peer.Display, _options.HandshakeTimeout.TotalSeconds);
                }
                return;
            }
            catch (AuthenticationException e)
            {
                _metrics.HandshakeRefused(HandshakeRefusal.TlsFailed);
                ListeningLog.TlsHandshakeFailed(_log, _peer.Display, e.Message);
                return;
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
                ListeningLog.LostInHandshake(_log, _peer.Display, e.Message);
                return;
            }
            finally
            {
                // A tunnel from here on, or closing: either way no longer in its handshake.
                LeavePending();
                // The registration first: once its Dispose returns, the server's stop cannot cancel a disposed source.
                stopping.Dispose();
                deadline.Dispose();
                stopping = default;
                deadline = null;
            }

            if (accepted is not { } upgrade) return;
            // The request is needed for the 101 only: the tunnel's life keeps the route, not the request's strings.
            accepted = null;
            var route = upgrade.Route;
            // Admitted against the user's limits with this address: it leaves with the same one.
            var admittedAs = _peer.Client?.Address;
            try
            {
                var run = new AcceptedTunnel(_options, _log, _metrics, _peer).RunAsync(transport, upgrade.Request, route, serverStopping);
                upgrade = default;
                await run.ConfigureAwait(false);
            }
            finally
            {
                route.State.Limiter.Leave(admittedAs);
            }
        }
        catch (OperationCanceledException) when (serverStopping.IsCancellationRequested)
        {
        }
        catch (IOException e)
        {
            // The client vanished while we wrote to it (a reset or broken pipe, say on the 101 right after
            // its request): a peer ending is a normal end (docs/protocol.md §3.1), not a failure of ours.
            ListeningLog.ConnectionLost(_log, _peer.Display, e.Message);
        }
        catch (Exception e)
        {
            // A bug, not a peer's doing: say so loudly, but one connection's failure never takes the server down.
            ListeningLog.ConnectionFailed(_log, _peer.Display, e);
        }
        finally
        {
            try
            {
                LeavePending();
                if (transport is not null) await transport.DisposeAsync().ConfigureAwait(false);
                else _socket.Dispose();
            }
            finally
            {
                _ended?.Invoke();
            }
        }
    }

    // What is left of the handshake timeout once the first byte came; never negative (a zero delay fires at once).
    private static TimeSpan RemainingOf(TimeSpan timeout, TimeSpan elapsed) => timeout > elapsed ? timeout - elapsed : TimeSpan.Zero;

    private void LeavePending()
    {
        if (_pendingKey is not { } key) return;
        _pendingKey = null;
        _pending!.Leave(key);
    }

    /// <summary>Takes the PROXY header off the socket (before TLS); false when the connection is to be dropped.</summary>
    private async Task<bool> ReadProxyHeaderAsync(CancellationToken cancellationToken)
    {
        var header = await ProxyHeaderReader.ReadAsync(_socket, cancellationToken).ConfigureAwait(false);
        switch (header.Status)
        {
            case ProxyHeaderParseStatus.Invalid:
                // Nothing is sent back: the peer is not speaking the protocol we expect (maybe TLS), so an HTTP answer would be garbage to it.
                _metrics.HandshakeRefused(HandshakeRefusal.ProxyHeader);
                ListeningLog.ProxyHeaderInvalid(_log, _peer.Display, header.Reason ?? "invalid PROXY header");
                return false;
            case ProxyHeaderParseStatus.NeedMoreData:
                if (header.Length > 0) ListeningLog.ProxyHeaderIncomplete(_log, _peer.Display);
                return false;
        }
        // LOCAL and UNKNOWN (a proxy's health check) keep the connection's own endpoints, as the spec says.
        if (header.Source is { } source)
        {
            _peer.SetFromProxyHeader(source, header.Destination);
            // The listener counted nothing (every connection comes from the proxy): this one counts against its real client.
            if (_pending is not null && !_pending.TryAdmit(source.Address, _options.TrustedProxies, _metrics, _log, out _pendingKey)) return false;
        }
        if (header.Source is null) ListeningLog.ProxyHeaderWithoutAddresses(_log, _peer.Display, header.Version, _peer.Local);
        else ListeningLog.ProxyHeaderRead(_log, _peer.Display, header.Version, _peer.Local);
        return true;
    }
}
