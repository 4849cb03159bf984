using Microsoft.Extensions.Logging;
using Mtt.Core.Diagnostics;
using Mtt.Core.Transport;

namespace Mtt.Core.Mux;

/// <summary>A smux session's events and its streams'. A user is named by its label, never by its path.</summary>
[LogEventRange(3000, 3099)]
internal static partial class MuxLog
{
    [LoggerMessage(3001, LogLevel.Debug, "{client}: smux session open for user {user} to {backend}")]
    public static partial void SessionOpened(ILogger logger, string client, string user, BackendAddress backend);

    /// <param name="clientEnd">What the client's socket reported ("; client connection PeerClosed"), or empty when it reported nothing.</param>
    [LoggerMessage(3002, LogLevel.Debug, "{client}: smux session closed for user {user} ({reason}{clientEnd}) after {seconds:0.0} s, {streams} streams ({streamsRefused} refused), {bytesFromClient} bytes from the client, {bytesToClient} bytes to it")]
    public static partial void SessionClosed(ILogger logger, string client, string user, SmuxEndReason reason, string clientEnd, double seconds,
        int streams, int streamsRefused, long bytesFromClient, long bytesToClient);

    [LoggerMessage(3003, LogLevel.Debug, "{client}: smux protocol error ({protocolError}); closing with 1002")]
    public static partial void ProtocolError(ILogger logger, string client, SmuxProtocolError protocolError);

    [LoggerMessage(3004, LogLevel.Debug, "{client}: stream {stream} refused: {maxStreams} streams already open")]
    public static partial void StreamRefused(ILogger logger, string client, uint stream, int maxStreams);

    [LoggerMessage(3005, LogLevel.Debug, "{client}: stream {stream} open to {backend}")]
    public static partial void StreamOpened(ILogger logger, string client, uint stream, string backend);

    [LoggerMessage(3006, LogLevel.Warning, "{client}: stream {stream}: backend {backend} failed: {error}; sent FIN")]
    public static partial void StreamBackendFailed(ILogger logger, string client, uint stream, string backend, string error);

    [LoggerMessage(3007, LogLevel.Debug, "{client}: stream {stream} {outcome}: {bytesFromClient} bytes from the client, {bytesToClient} to it")]
    public static partial void StreamEnded(ILogger logger, string client, uint stream, string outcome, long bytesFromClient, long bytesToClient);

    [LoggerMessage(3008, LogLevel.Debug, "{client}: nothing from the client for {seconds} s; closing the session")]
    public static partial void KeepAliveTimedOut(ILogger logger, string client, double seconds);

    [LoggerMessage(3009, LogLevel.Debug, "{client}: the client took nothing of a write for {seconds} s; session cut without a close frame")]
    public static partial void SessionClientStalled(ILogger logger, string client, double seconds);

    [LoggerMessage(3010, LogLevel.Warning, "{client}: smux session ended by an unexpected {faultType} in the server, counted as a client disconnect; please report it with this line")]
    public static partial void SessionFault(ILogger logger, string client, string faultType, Exception fault);
}
