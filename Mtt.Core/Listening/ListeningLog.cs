using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Mtt.Core.Diagnostics;

namespace Mtt.Core.Listening;

/// <summary>
/// The tunnel listener's events: accepting, its limits, and each connection up to its upgrade. Per-connection
/// detail is <see cref="LogLevel.Debug"/> (<c>-verbose</c>), and only there may a user path appear.
/// </summary>
[LogEventRange(2000, 2099)]
internal static partial class ListeningLog
{
    [LoggerMessage(2001, LogLevel.Warning, "-fast-open: TCP Fast Open does not apply to a Unix socket (-bind-unix); ignored")]
    public static partial void FastOpenOnUnixSocket(ILogger logger);

    [LoggerMessage(2002, LogLevel.Warning, "-fast-open: TCP Fast Open is only set up on Linux; ignored")]
    public static partial void FastOpenNotLinux(ILogger logger);

    [LoggerMessage(2003, LogLevel.Warning, "-fast-open: the kernel refused TCP_FASTOPEN ({socketError}); serving without it")]
    public static partial void FastOpenRefused(ILogger logger, SocketError socketError);

    [LoggerMessage(2004, LogLevel.Warning, "-fast-open: {sysctl} does not have the server bit (2), so the kernel ignores Fast Open; set it with 'sysctl -w net.ipv4.tcp_fastopen=3'")]
    public static partial void FastOpenOffInKernel(ILogger logger, string sysctl);

    [LoggerMessage(2005, LogLevel.Error, "accept failed: {socketError} ({error}); retrying in 1 s")]
    public static partial void AcceptFailed(ILogger logger, SocketError socketError, string error);

    [LoggerMessage(2006, LogLevel.Warning, "{maxConnections} connections open (-max-connections): closing new ones at once until some end")]
    public static partial void ConnectionLimitReached(ILogger logger, int maxConnections);

    [LoggerMessage(2007, LogLevel.Warning, "{address}: {limit} connections from this address in their handshake (-max-pending-per-ip): closing its new ones at once until they end")]
    public static partial void PendingPerAddressLimitReached(ILogger logger, IPAddress address, int limit);

    [LoggerMessage(2010, LogLevel.Debug, "{client}: nothing sent within {seconds} s of connecting, dropped")]
    public static partial void FirstByteTimedOut(ILogger logger, string client, double seconds);

    [LoggerMessage(2011, LogLevel.Debug, "{client}: handshake not complete within {seconds} s, dropped")]
    public static partial void HandshakeTimedOut(ILogger logger, string client, double seconds);

    [LoggerMessage(2012, LogLevel.Debug, "{client}: TLS handshake failed: {error}")]
    public static partial void TlsHandshakeFailed(ILogger logger, string client, string error);

    [LoggerMessage(2013, LogLevel.Debug, "{client}: connection lost during the handshake: {error}")]
    public static partial void LostInHandshake(ILogger logger, string client, string error);

    [LoggerMessage(2014, LogLevel.Debug, "{client}: connection lost: {error}")]
    public static partial void ConnectionLost(ILogger logger, string client, string error);

    /// <summary>A bug, not a peer's doing: the exception's trace follows the line.</summary>
    [LoggerMessage(2015, LogLevel.Error, "{client}: connection failed unexpectedly")]
    public static partial void ConnectionFailed(ILogger logger, string client, Exception exception);

    [LoggerMessage(2016, LogLevel.Debug, "{client}: dropped: {reason} (-proxy-protocol)")]
    public static partial void ProxyHeaderInvalid(ILogger logger, string client, string reason);

    [LoggerMessage(2017, LogLevel.Debug, "{client}: closed before sending a whole PROXY header")]
    public static partial void ProxyHeaderIncomplete(ILogger logger, string client);

    [LoggerMessage(2018, LogLevel.Debug, "{client}: PROXY v{version} header, to {destination}")]
    public static partial void ProxyHeaderRead(ILogger logger, string client, int version, IPEndPoint? destination);

    [LoggerMessage(2019, LogLevel.Debug, "{client}: PROXY v{version} header without addresses (LOCAL or UNKNOWN), to {destination}")]
    public static partial void ProxyHeaderWithoutAddresses(ILogger logger, string client, int version, IPEndPoint? destination);

    [LoggerMessage(2020, LogLevel.Debug, "{client}: X-Forwarded-For / X-Real-IP ignored: the peer is not in -trusted-proxy")]
    public static partial void ForwardingHeadersIgnored(ILogger logger, string client);

    [LoggerMessage(2021, LogLevel.Debug, "{client}: refused with {status}: {reason}")]
    public static partial void RequestRefused(ILogger logger, string client, int status, string? reason);

    [LoggerMessage(2022, LogLevel.Debug, "{client}: closed before sending a whole request head")]
    public static partial void RequestHeadIncomplete(ILogger logger, string client);

    /// <summary>Names the path asked for: Debug only, like every line that may hold a user's secret.</summary>
    [LoggerMessage(2023, LogLevel.Debug, "{client}: refused with 404: no user for path {path}")]
    public static partial void NoUserForPath(ILogger logger, string client, string path);
}
