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
/// An upgrade that passed: answers 101 and runs the WebSocket as one plain tunnel to the user's backend
/// or as an smux session of many, as the client's subprotocol (or <c>-mux</c>) says, metered for its user.
/// </summary>
internal sealed class AcceptedTunnel(TunnelServerOptions options, ILogger log, ServerMetrics metrics, ConnectionPeer peer)
{
    public Task RunAsync(SocketTransport transport, UpgradeRequest request, Route route, CancellationToken serverStopping)
    {
        bool mux = request.OfferedSubprotocol switch
        {
            Subprotocol.SmuxOn => true,
            Subprotocol.SmuxOff => false,
            _ => options.MuxByDefault,
        };
        HandshakeResponse.WriteAccept(transport.Output, request.WebSocketKey!, request.OfferedSubprotocol);
        // The 101 is flushed by the tunnel's or the session's own method: an idle tunnel holds the state machine of
        // every async method on its way for its life, so one method here, not two (~150 B per tunnel).
        return mux ? RunSmuxSessionAsync(transport, route, serverStopping) : RunPlainTunnelAsync(transport, route, serverStopping);
    }

    /// <summary>The 101 went out: from here the connection is a WebSocket, counted as a tunnel of its user until <see cref="TunnelMeter.TunnelClosed"/>.</summary>
    private (WebSocketConnection WebSocket, TunnelMeter Meter) Accepted(SocketTransport transport, Route route)
    {
        // Nothing reads or writes the connection until the relay starts: the one safe moment.
        transport.ReleaseTlsBuffers();
        var meter = new TunnelMeter(route.State, metrics);
        meter.TunnelOpened();
        return (new WebSocketConnection(transport.Input, transport.Output, transport.RecordLayer), meter);
    }

    private async Task RunPlainTunnelAsync(SocketTransport transport, Route route, CancellationToken serverStopping)
    {
        await transport.Output.FlushAsync(serverStopping).ConfigureAwait(false);
        var (webSocket, meter) = Accepted(transport, route);
        try
        {
            var proxyHeader = ProxyHeaderWriter.Create(options.SendProxy, peer.Client, peer.Local);
            var (backend, dialError) = await BackendDialer.DialAsync(route.Backend, proxyHeader, options.DialTimeout, options.Time, serverStopping).ConfigureAwait(false);
            if (backend is null)
            {
                meter.DialFailed();
                RelayLog.BackendFailed(log, peer.Display, route.Label, route.Backend, dialError);
                await webSocket.SendCloseAsync(WebSocketCloseCodes.InternalError, serverStopping).ConfigureAwait(false);
                return;
            }

            // Guarded: the client's address would be formatted for a line that is not written (debug only).
            if (log.IsEnabled(LogLevel.Debug)) RelayLog.TunnelOpened(log, peer.Display, route.Label, route.Backend);
            long started = options.Time.GetTimestamp();
            var tunnel = new WebSocketTunnel(webSocket, backend, options.IdleTimeout, options.CloseHandshakeTimeout, meter, options.Time);
            var result = await tunnel.RunAsync(serverStopping).ConfigureAwait(false);
            if (result.Reason == TunnelEndReason.ClientStalled) RelayLog.ClientStalled(log, peer.Display, options.IdleTimeout.TotalSeconds);
            if (result.Fault is { } fault) RelayLog.TunnelFault(log, peer.Display, fault.GetType().Name, fault);
            // After a backend's end the tunnel has already given the client its moment to answer our close.
            if (result.Reason != TunnelEndReason.BackendClosed) await webSocket.DrainUntilCloseAsync(options.CloseHandshakeTimeout, options.Time).ConfigureAwait(false);
            // ClientEnd is built only when the line will be written.
            if (log.IsEnabled(LogLevel.Debug))
            {
                RelayLog.TunnelClosed(log, peer.Display, route.Label, result.Reason, ClientEnd(transport), BackendEnd(result), options.Time.GetElapsedTime(started).TotalSeconds,
                    result.BytesFromClient, result.BytesToClient);
            }
        }
        finally
        {
            meter.TunnelClosed();
        }
    }

    private async Task RunSmuxSessionAsync(SocketTransport transport, Route route, CancellationToken serverStopping)
    {
        await transport.Output.FlushAsync(serverStopping).ConfigureAwait(false);
        var (webSocket, meter) = Accepted(transport, route);
        try
        {
            var sessionOptions = new SmuxSessionOptions
            {
                KeepAliveInterval = options.SmuxKeepAliveInterval,
                KeepAliveTimeout = options.SmuxKeepAliveTimeout,
                IdleTimeout = options.IdleTimeout,
                MaxStreams = options.SmuxMaxStreams,
                ReceiveBudget = options.SmuxReceiveBudget,
                CloseHandshakeTimeout = options.CloseHandshakeTimeout,
                Time = options.Time,
            };
            var backend = route.Backend;
            var dialTimeout = options.DialTimeout;
            var time = options.Time;
            // One header for the session: every stream comes from the same client connection.
            var proxyHeader = ProxyHeaderWriter.Create(options.SendProxy, peer.Client, peer.Local);
            var session = new SmuxSession(webSocket, token => BackendDialer.DialAsync(backend, proxyHeader, dialTimeout, time, token), sessionOptions, log, peer.Display, backend.ToString(), meter);
            if (log.IsEnabled(LogLevel.Debug)) MuxLog.SessionOpened(log, peer.Display, route.Label, route.Backend);
            long started = time.GetTimestamp();
            var result = await session.RunAsync(serverStopping).ConfigureAwait(false);
            await webSocket.DrainUntilCloseAsync(options.CloseHandshakeTimeout, time).ConfigureAwait(false);
            if (log.IsEnabled(LogLevel.Debug))
            {
                MuxLog.SessionClosed(log, peer.Display, route.Label, result.Reason, ClientEnd(transport), time.GetElapsedTime(started).TotalSeconds,
                    result.StreamsOpened, result.StreamsRefused, result.BytesFromClient, result.BytesToClient);
            }
        }
        finally
        {
            meter.TunnelClosed();
        }
    }

    // What the client's socket reported, when it reported anything (a reset is worth telling from a clean close).
    private static string ClientEnd(SocketTransport transport) => transport.ShutdownKind switch
    {
        TransportShutdownKind.None => "",
        TransportShutdownKind.ReadFailed or TransportShutdownKind.WriteFailed => $"; client connection {transport.ShutdownKind}: {transport.ShutdownError}",
        var kind => $"; client connection {kind}",
    };

    // Only a failure: how a healthy backend ended is what the reason says already.
    private static string BackendEnd(TunnelResult result) => result.BackendEnd is TransportShutdownKind.ReadFailed or TransportShutdownKind.WriteFailed
        ? $"; backend connection {result.BackendEnd}: {result.BackendError}"
        : "";
}
