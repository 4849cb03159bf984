using Microsoft.Extensions.Logging;
using Mtt.Core.Diagnostics;
using Mtt.Core.Transport;

namespace Mtt.Core.Relay;

/// <summary>
/// One plain tunnel's life: its backend, its open and its end. A user is named by its label (its name, or a short
/// hash of its path), never by its path.
/// </summary>
[LogEventRange(4000, 4099)]
internal static partial class RelayLog
{
    [LoggerMessage(4001, LogLevel.Warning, "{client}: user {user}: backend {backend} failed: {error}; closed the tunnel with 1011")]
    public static partial void BackendFailed(ILogger logger, string client, string user, BackendAddress backend, string? error);

    [LoggerMessage(4002, LogLevel.Debug, "{client}: tunnel open for user {user} to {backend}")]
    public static partial void TunnelOpened(ILogger logger, string client, string user, BackendAddress backend);

    [LoggerMessage(4003, LogLevel.Debug, "{client}: the client took nothing of a write for {seconds} s; tunnel cut without a close frame")]
    public static partial void ClientStalled(ILogger logger, string client, double seconds);

    [LoggerMessage(4005, LogLevel.Warning, "{client}: tunnel ended by an unexpected {faultType} in the server, counted as a client disconnect; please report it with this line")]
    public static partial void TunnelFault(ILogger logger, string client, string faultType, Exception fault);

    /// <param name="clientEnd">What the client's socket reported ("; client connection PeerClosed"), or empty when it reported nothing.</param>
    /// <param name="backendEnd">A failure the backend's socket reported ("; backend connection ReadFailed: ConnectionReset"), else empty.</param>
    [LoggerMessage(4004, LogLevel.Debug, "{client}: tunnel closed for user {user} ({reason}{clientEnd}{backendEnd}) after {seconds:0.0} s, {bytesFromClient} bytes from the client, {bytesToClient} bytes to it")]
    public static partial void TunnelClosed(ILogger logger, string client, string user, TunnelEndReason reason, string clientEnd, string backendEnd, double seconds, long bytesFromClient, long bytesToClient);
}
