using Microsoft.Extensions.Logging;
using Mtt.Core.Diagnostics;
using Mtt.Core.Routing;
using Mtt.Core.Transport;
using Mtt.Core.Upgrade;

namespace Mtt.Core.Listening;

/// <summary>
/// The gate between a connection and a tunnel: reads the upgrade request off the transport, finds its
/// user and answers a refusal when there is none or the request is not a WebSocket upgrade we take.
/// No backend is dialled for a request that does not pass.
/// </summary>
internal sealed class UpgradeAdmission(TunnelServerOptions options, RouteStore routes, ILogger log, ServerMetrics metrics)
{
    /// <summary>Returns the request and its route when a tunnel should follow; null when it was refused or the client left.</summary>
    public async Task<(UpgradeRequest Request, Route Route)?> ReadAsync(SocketTransport transport, ConnectionPeer peer, CancellationToken cancellationToken)
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
                ListeningLog.RequestRefused(log, peer.Display, parsed.RefusalStatus, parsed.RefusalReason);
                await RefuseAsync(transport, parsed.RefusalStatus, cancellationToken).ConfigureAwait(false);
                return null;
            }
            if (read.IsCompleted)
            {
                if (!read.Buffer.IsEmpty) ListeningLog.RequestHeadIncomplete(log, peer.Display);
                return null;
            }
        }

        // The parser has refused every method but GET already (405).
        var request = parsed.Request!;
        peer.BelieveForwardingHeaders(request, options.TrustedProxies);
        // The route decides before the WebSocket headers do: a prober without a valid path learns
        // nothing but 404, whatever it sends.
        // A user deleted since this table was read is refused as if it had never been there.
        if (!routes.Current.TryGet(request.Path, out var route) || route.State.IsRevoked)
        {
            ListeningLog.NoUserForPath(log, peer.Display, request.Path);
            await RefuseAsync(transport, 404, cancellationToken).ConfigureAwait(false);
            return null;
        }

        int status = UpgradeValidator.Validate(request, out string? reason);
        if (status != 0)
        {
            ListeningLog.RequestRefused(log, peer.Display, status, reason);
            await RefuseAsync(transport, status, cancellationToken).ConfigureAwait(false);
            return null;
        }
        return (request, route);
    }

    private async Task RefuseAsync(SocketTransport transport, int status, CancellationToken cancellationToken)
    {
        metrics.HandshakeRefused(ServerMetrics.RefusalFor(status));
        HandshakeResponse.WriteRefusal(transport.Output, status);
        await transport.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
