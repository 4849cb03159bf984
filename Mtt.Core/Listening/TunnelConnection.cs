using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using Mtt.Core.ClientAddress;
using Mtt.Core.Diagnostics;
using Mtt.Core.Mux;
using Mtt.Core.Relay;
using Mtt.Core.Routing;
using Mtt.Core.Transport;
using Mtt.Core.Upgrade;
using Mtt.Core.WebSockets;

namespace Mtt.Core.Listening;

/// <summary>
/// One accepted connection, from the first byte to the last: TLS, the upgrade request, the route,
/// the 101 or a refusal, the backend dial, and then the relay.
/// </summary>
internal sealed class TunnelConnection
{
    private readonly Socket _socket;
    private readonly TunnelServerOptions _options;
    private readonly RouteStore _routes;
    private readonly ILogger _log;
    private readonly ServerMetrics _metrics;
    private readonly SemaphoreSlim? _handshakeSlots;
    private readonly PendingConnections? _pending;
    // What this connection counts against in _pending while it is in its handshake; null once it no longer does.
    private IPAddress? _pendingKey;
    // The TCP peer as text: the proxy, when a PROXY header or a trusted X-Forwarded-For names the real client.
    private readonly string _peer;
    // The real client: the PROXY header's source, a trusted proxy's X-Forwarded-For or X-Real-IP (port 0 when it
    // gave none), else the TCP peer; null when unknown. This is the address logs show.
    private IPEndPoint? _clientEndPoint;
    // Where the client connected to: the PROXY header's destination when there is one, else our socket's end.
    // Both are what -send-proxy tells the backend, read at dial time; null when not IP (a Unix socket peer).
    private IPEndPoint? _localEndPoint;
    // _clientEndPoint for log lines; with -verbose, "203.0.113.7:51234 via 127.0.0.1:40000" when a proxy named it.
    private string _client;

    /// <param name="handshakeSlots">Shared by the listener's connections: one slot per TLS handshake being computed (<see cref="TunnelServerOptions.MaxHandshakes"/>).</param>
    /// <param name="pending">Shared by the listener's connections: <see cref="TunnelServerOptions.MaxPendingPerAddress"/>.</param>
    /// <param name="pendingKey">Where the listener counted this connection in <paramref name="pending"/> at accept, if it did.</param>
    public TunnelConnection(Socket socket, TunnelServerOptions options, RouteStore routes, ILogger log, ServerMetrics metrics,
        SemaphoreSlim? handshakeSlots = null, PendingConnections? pending = null, IPAddress? pendingKey = null)
    {
        _handshakeSlots = handshakeSlots;
        _pending = pending;
        _pendingKey = pendingKey;
        _metrics = metrics;
        _socket = socket;
        _options = options;
        _routes = routes;
        _log = log;
        _clientEndPoint = Unmapped(socket.RemoteEndPoint as IPEndPoint);
        _localEndPoint = Unmapped(socket.LocalEndPoint as IPEndPoint);
        // A Unix socket peer (-bind-unix) has no address of its own: the front proxy on this host is all we know.
        _peer = _clientEndPoint?.ToString() ?? (socket.AddressFamily == AddressFamily.Unix ? "unix" : "unknown");
        _client = _peer;
    }

    // A dual-mode listener (-b :443) sees IPv4 clients as ::ffff:a.b.c.d; logs and PROXY headers name them as IPv4.
    private static IPEndPoint? Unmapped(IPEndPoint? endPoint) =>
        endPoint is { Address.IsIPv4MappedToIPv6: true } ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;

    /// <summary>A proxy named the real client: logs from here on show it.</summary>
    private void SetClient(IPEndPoint client)
    {
        _clientEndPoint = client;
        // Port 0: the proxy gave an address only (X-Forwarded-For usually does).
        string text = client.Port == 0 ? client.Address.ToString() : client.ToString();
        _client = _log.IsEnabled(LogLevel.Debug) ? $"{text} via {_peer}" : text;
    }

    public async Task RunAsync(CancellationToken serverStopping)
    {
        SocketTransport? transport = null;
        try
        {
            // On the options' clock, so that tests can drive it.
            using var handshakeDeadline = new CancellationTokenSource(_options.HandshakeTimeout, _options.Time);
            using var handshakeTimeout = CancellationTokenSource.CreateLinkedTokenSource(serverStopping, handshakeDeadline.Token);

            (UpgradeRequest Request, Route Route)? accepted;
            try
            {
                if (!await FirstByte.WaitAsync(_socket, _options.FirstByteTimeout, _options.Time, handshakeTimeout.Token).ConfigureAwait(false))
                {
                    _metrics.HandshakeRefused(HandshakeRefusal.FirstByteTimeout);
                    ListeningLog.FirstByteTimedOut(_log, _client, _options.FirstByteTimeout.TotalSeconds);
                    return;
                }
                // Section 2 of the PROXY protocol spec: nothing of the connection is processed before a whole valid header.
                if (_options.RequireProxyHeader && !await ReadProxyHeaderAsync(handshakeTimeout.Token).ConfigureAwait(false)) return;
                // A slot is held only while TLS records are being computed on, never while waiting for the client; waiting
                // for one counts against the handshake timeout. A plain head takes none: its parse is synchronous and
                // bounded (8 KiB), so no more of them run at once than there are threads, and a slot would only add a wait.
                transport = _options.Certificate is { } certificate
                    ? await SocketTransport.CreateTlsAsync(_socket, certificate.Current, _handshakeSlots, handshakeTimeout.Token).ConfigureAwait(false)
                    : SocketTransport.CreatePlain(_socket);
                accepted = await ReadUpgradeAsync(transport, handshakeTimeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (handshakeTimeout.IsCancellationRequested && !serverStopping.IsCancellationRequested)
            {
                _metrics.HandshakeRefused(HandshakeRefusal.Timeout);
                ListeningLog.HandshakeTimedOut(_log, _client, _options.HandshakeTimeout.TotalSeconds);
                return;
            }
            catch (AuthenticationException e)
            {
                _metrics.HandshakeRefused(HandshakeRefusal.TlsFailed);
                ListeningLog.TlsHandshakeFailed(_log, _client, e.Message);
                return;
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
                ListeningLog.LostInHandshake(_log, _client, e.Message);
                return;
            }
            finally
            {
                // A tunnel from here on, or closing: either way no longer in its handshake.
                LeavePending();
            }

            if (accepted is not { } upgrade) return;
            await RelayAsync(transport, upgrade.Request, upgrade.Route, serverStopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (serverStopping.IsCancellationRequested)
        {
        }
        catch (IOException e)
        {
            // The client vanished while we wrote to it (a reset or broken pipe, say on the 101 right after
            // its request): a peer ending is a normal end (docs/protocol.md §3.1), not a failure of ours.
            ListeningLog.ConnectionLost(_log, _client, e.Message);
        }
        catch (Exception e)
        {
            // A bug, not a peer's doing: say so loudly, but one connection's failure never takes the server down.
            ListeningLog.ConnectionFailed(_log, _client, e);
        }
        finally
        {
            LeavePending();
            if (transport is not null) await transport.DisposeAsync().ConfigureAwait(false);
            else _socket.Dispose();
        }
    }

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
                ListeningLog.ProxyHeaderInvalid(_log, _client, header.Reason ?? "invalid PROXY header");
                return false;
            case ProxyHeaderParseStatus.NeedMoreData:
                if (header.Length > 0) ListeningLog.ProxyHeaderIncomplete(_log, _client);
                return false;
        }
        // LOCAL and UNKNOWN (a proxy's health check) keep the connection's own endpoints, as the spec says.
        if (header.Source is { } source)
        {
            _localEndPoint = header.Destination;
            SetClient(source);
            // The listener counted nothing (every connection comes from the proxy): this one counts against its real client.
            if (_pending is not null && !_pending.TryAdmit(source.Address, _options.TrustedProxies, _metrics, _log, out _pendingKey)) return false;
        }
        if (header.Source is null) ListeningLog.ProxyHeaderWithoutAddresses(_log, _client, header.Version, _localEndPoint);
        else ListeningLog.ProxyHeaderRead(_log, _client, header.Version, _localEndPoint);
        return true;
    }

    /// <summary>
    /// With <c>-trusted-proxy</c>, and a peer (or PROXY header source) in its ranges, the client that
    /// X-Forwarded-For or X-Real-IP names becomes the connection's client. Both listener modes: the trust is in
    /// the peer, and a CDN that re-encrypts to a TLS origin sets the headers just as a TLS-terminating nginx does.
    /// </summary>
    private void BelieveForwardingHeaders(UpgradeRequest request)
    {
        if (_options.TrustedProxies is not { } trusted || (request.XForwardedFor is null && request.XRealIp is null)) return;
        if (_clientEndPoint is not { } peer || !trusted.Contains(peer.Address))
        {
            ListeningLog.ForwardingHeadersIgnored(_log, _client);
            return;
        }
        if (ForwardedClient.TryResolve(request.XForwardedFor, request.XRealIp, trusted, out var client)) SetClient(client);
    }

    /// <summary>Reads the upgrade request and refuses it if it must; returns it and its route when a tunnel should follow.</summary>
    private async Task<(UpgradeRequest Request, Route Route)?> ReadUpgradeAsync(SocketTransport transport, CancellationToken cancellationToken)
    {
        var input = transport.Input;
        UpgradeParseResult parsed;
        while (true)
        {
            var read = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            parsed = UpgradeParser.Parse(read.Buffer);
            if (parsed.Status == UpgradeParseStatus.Complete)
            {
                input.AdvanceTo(parsed.End);
                break;
            }
            input.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            if (parsed.Status == UpgradeParseStatus.Invalid)
            {
                ListeningLog.RequestRefused(_log, _client, parsed.RefusalStatus, parsed.RefusalReason);
                await RefuseAsync(transport, parsed.RefusalStatus, cancellationToken).ConfigureAwait(false);
                return null;
            }
            if (read.IsCompleted)
            {
                if (!read.Buffer.IsEmpty) ListeningLog.RequestHeadIncomplete(_log, _client);
                return null;
            }
        }

        // The parser has refused every method but GET already (405).
        var request = parsed.Request!;
        BelieveForwardingHeaders(request);
        // The route decides before the WebSocket headers do: a prober without a valid path learns
        // nothing but 404, whatever it sends.
        // A user deleted since this table was read is refused as if it had never been there.
        if (!_routes.Current.TryGet(request.Path, out var route) || route.State.IsRevoked)
        {
            ListeningLog.NoUserForPath(_log, _client, request.Path);
            await RefuseAsync(transport, 404, cancellationToken).ConfigureAwait(false);
            return null;
        }

        int status = UpgradeValidator.Validate(request, out string? reason);
        if (status != 0)
        {
            ListeningLog.RequestRefused(_log, _client, status, reason);
            await RefuseAsync(transport, status, cancellationToken).ConfigureAwait(false);
            return null;
        }
        return (request, route);
    }

    private async Task RelayAsync(SocketTransport transport, UpgradeRequest request, Route route, CancellationToken serverStopping)
    {
        bool mux = request.OfferedSubprotocol switch
        {
            Subprotocol.SmuxOn => true,
            Subprotocol.SmuxOff => false,
            _ => _options.MuxByDefault,
        };
        HandshakeResponse.WriteAccept(transport.Output, request.WebSocketKey!, request.OfferedSubprotocol);
        await transport.Output.FlushAsync(serverStopping).ConfigureAwait(false);
        // Nothing reads or writes the connection until the relay starts: the one safe moment.
        transport.ReleaseTlsBuffers();
        var webSocket = new WebSocketConnection(transport.Input, transport.Output);
        var meter = new TunnelMeter(route.State, _metrics);
        meter.TunnelOpened();
        try
        {
            if (mux) await RunSmuxSessionAsync(webSocket, route, meter, serverStopping).ConfigureAwait(false);
            else await RunPlainTunnelAsync(webSocket, route, meter, serverStopping).ConfigureAwait(false);
        }
        finally
        {
            meter.TunnelClosed();
        }
    }

    private async Task RunPlainTunnelAsync(WebSocketConnection webSocket, Route route, TunnelMeter meter, CancellationToken serverStopping)
    {
        var proxyHeader = ProxyHeaderWriter.Create(_options.SendProxy, _clientEndPoint, _localEndPoint);
        var (backend, dialError) = await BackendDialer.DialAsync(route.Backend, proxyHeader, _options.DialTimeout, serverStopping).ConfigureAwait(false);
        if (backend is null)
        {
            meter.DialFailed();
            RelayLog.BackendFailed(_log, _client, route.Label, route.Backend, dialError);
            await webSocket.SendCloseAsync(WebSocketCloseCodes.InternalError, serverStopping).ConfigureAwait(false);
            return;
        }

        RelayLog.TunnelOpened(_log, _client, route.Label, route.Backend);
        long started = Environment.TickCount64;
        var tunnel = new WebSocketTunnel(webSocket, backend, _options.IdleTimeout, _options.CloseHandshakeTimeout, meter, _options.Time);
        var result = await tunnel.RunAsync(serverStopping).ConfigureAwait(false);
        if (result.Reason == TunnelEndReason.ClientStalled) RelayLog.ClientStalled(_log, _client, _options.IdleTimeout.TotalSeconds);
        // After a backend's end the tunnel has already given the client its moment to answer our close.
        if (result.Reason != TunnelEndReason.BackendClosed) await webSocket.DrainUntilCloseAsync(_options.CloseHandshakeTimeout, _options.Time).ConfigureAwait(false);
        RelayLog.TunnelClosed(_log, _client, route.Label, result.Reason, (Environment.TickCount64 - started) / 1000.0, result.BytesFromClient, result.BytesToClient);
    }

    private async Task RunSmuxSessionAsync(WebSocketConnection webSocket, Route route, TunnelMeter meter, CancellationToken serverStopping)
    {
        var options = new SmuxSessionOptions
        {
            KeepAliveInterval = _options.SmuxKeepAliveInterval,
            KeepAliveTimeout = _options.SmuxKeepAliveTimeout,
            IdleTimeout = _options.IdleTimeout,
            MaxStreams = _options.SmuxMaxStreams,
            ReceiveBudget = _options.SmuxReceiveBudget,
            CloseHandshakeTimeout = _options.CloseHandshakeTimeout,
            Time = _options.Time,
        };
        var backend = route.Backend;
        var dialTimeout = _options.DialTimeout;
        // One header for the session: every stream comes from the same client connection.
        var proxyHeader = ProxyHeaderWriter.Create(_options.SendProxy, _clientEndPoint, _localEndPoint);
        var session = new SmuxSession(webSocket, token => BackendDialer.DialAsync(backend, proxyHeader, dialTimeout, token), options, _log, _client, backend.ToString(), meter);
        MuxLog.SessionOpened(_log, _client, route.Label, route.Backend);
        long started = Environment.TickCount64;
        var result = await session.RunAsync(serverStopping).ConfigureAwait(false);
        await webSocket.DrainUntilCloseAsync(_options.CloseHandshakeTimeout, _options.Time).ConfigureAwait(false);
        MuxLog.SessionClosed(_log, _client, route.Label, result.Reason, (Environment.TickCount64 - started) / 1000.0,
            result.StreamsOpened, result.StreamsRefused, result.BytesFromClient, result.BytesToClient);
    }

    private async Task RefuseAsync(SocketTransport transport, int status, CancellationToken cancellationToken)
    {
        _metrics.HandshakeRefused(ServerMetrics.RefusalFor(status));
        HandshakeResponse.WriteRefusal(transport.Output, status);
        await transport.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
