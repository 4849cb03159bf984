using Microsoft.Extensions.Logging;
using Mtt.Core.Diagnostics;

namespace Mtt.Core.Listening;

/// <summary>The certificate files' events: watching them and reloading them (SIGHUP or a change on disk).</summary>
[LogEventRange(2100, 2199)]
internal static partial class CertificateLog
{
    [LoggerMessage(2101, LogLevel.Warning, "certificate watcher on {directory}: {error}; SIGHUP still reloads")]
    public static partial void WatcherFailed(ILogger logger, string directory, string error);

    [LoggerMessage(2102, LogLevel.Warning, "cannot watch {directory} for certificate changes ({error}); reload with SIGHUP instead")]
    public static partial void CannotWatch(ILogger logger, string directory, string error);

    [LoggerMessage(2103, LogLevel.Error, "certificate reload ({trigger}) failed, keeping the current certificate: {error}")]
    public static partial void ReloadFailed(ILogger logger, string trigger, string? error);

    [LoggerMessage(2104, LogLevel.Information, "certificate reloaded ({trigger}): {subject}, valid until {notAfter:yyyy-MM-dd HH:mm} UTC, SHA-256 {sha256}")]
    public static partial void Reloaded(ILogger logger, string trigger, string subject, DateTime notAfter, string sha256);
}
