using System.Net;
using Microsoft.Extensions.Logging;
using Mtt.Core.Diagnostics;

namespace Mtt.Core.Control.Http;

/// <summary>
/// The controller's events. A command is logged at Information without its paths; the <c>err_string</c> of a
/// refused one may quote a path, so it is Debug (<c>-verbose</c>) only.
/// </summary>
[LogEventRange(5000, 5099)]
internal static partial class ControllerLog
{
    [LoggerMessage(5001, LogLevel.Information, "controller listening on {endPoint}")]
    public static partial void Listening(ILogger logger, IPEndPoint? endPoint);

    [LoggerMessage(5002, LogLevel.Warning, "controller: {count} connections still closing after {seconds} s")]
    public static partial void StillClosing(ILogger logger, int count, double seconds);

    [LoggerMessage(5003, LogLevel.Error, "controller: accept failed: {error}")]
    public static partial void ControllerAcceptFailed(ILogger logger, string error);

    [LoggerMessage(5004, LogLevel.Warning, "controller {client}: 503 refused, {maxConnections} connections already open")]
    public static partial void Busy(ILogger logger, string client, int maxConnections);

    [LoggerMessage(5005, LogLevel.Debug, "controller {client}: connection ended: {error}")]
    public static partial void ConnectionEnded(ILogger logger, string client, string error);

    /// <summary>A bug, not a client's doing: the exception's trace follows the line.</summary>
    [LoggerMessage(5006, LogLevel.Error, "controller {client}: connection failed")]
    public static partial void ControllerConnectionFailed(ILogger logger, string client, Exception exception);

    [LoggerMessage(5007, LogLevel.Debug, "controller {client}: idle connection closed")]
    public static partial void IdleClosed(ILogger logger, string client);

    [LoggerMessage(5008, LogLevel.Warning, "controller {client}: {status} {reason}")]
    public static partial void Rejected(ILogger logger, string client, int status, string reason);

    [LoggerMessage(5009, LogLevel.Information, "controller {client}: opt {opt}, {entries} entries: {outcome}")]
    public static partial void CommandAnswered(ILogger logger, string client, int opt, int entries, string outcome);

    [LoggerMessage(5010, LogLevel.Debug, "controller {client}: err_string: {errString}")]
    public static partial void CommandError(ILogger logger, string client, string? errString);

    [LoggerMessage(5011, LogLevel.Debug, "controller {client}: closed in the middle of {part}")]
    public static partial void ClosedMidRequest(ILogger logger, string client, string part);
}
