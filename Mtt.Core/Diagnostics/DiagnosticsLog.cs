using Microsoft.Extensions.Logging;

namespace Mtt.Core.Diagnostics;

/// <summary>The server's own housekeeping: memory given back after a peak of connections.</summary>
[LogEventRange(6000, 6099)]
internal static partial class DiagnosticsLog
{
    [LoggerMessage(6001, LogLevel.Information, "memory returned: {open} connections open (peak {peak}); RSS {rssBeforeMib:0.0} -> {rssAfterMib:0.0} MiB ({milliseconds} ms, malloc_trim: {mallocTrim})")]
    public static partial void MemoryReturned(ILogger logger, int open, int peak, double rssBeforeMib, double rssAfterMib, long milliseconds, bool mallocTrim);

    [LoggerMessage(6003, LogLevel.Information, "memory returned as pool threads ended: {poolThreadsBefore} -> {poolThreadsAfter} pool threads, {open} connections open; RSS {rssBeforeMib:0.0} -> {rssAfterMib:0.0} MiB (malloc_trim: {mallocTrim})")]
    public static partial void MemoryReturnedAfterPoolThreads(ILogger logger, int poolThreadsBefore, int poolThreadsAfter, int open, double rssBeforeMib, double rssAfterMib, bool mallocTrim);

    [LoggerMessage(6002, LogLevel.Warning, "memory trim failed: {errorType}: {error}")]
    public static partial void MemoryTrimFailed(ILogger logger, string errorType, string error);
}
