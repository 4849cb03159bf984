using System.Text;
using Microsoft.Extensions.Logging;

namespace Mtt.Core.Diagnostics;

/// <summary>
/// The server's log: the <see cref="ILogger"/> behind every typed event (ListeningLog, RelayLog, ...), one line per
/// event on a text writer (stderr). <see cref="LogLevel.Debug"/> is per-connection detail and may name secrets such
/// as user paths, so it is enabled only when the operator asked for it with <c>-verbose</c>; a level that is off
/// formats nothing (the generated methods ask <see cref="IsEnabled"/> first).
/// </summary>
/// <remarks>
/// Hand-written rather than Microsoft.Extensions.Logging.Console: one writer with three shapes is all the server
/// needs, and the console provider would bring configuration, options and a background queue (README, "Logs").
/// </remarks>
public sealed class ServerLog : ILogger
{
    /// <summary>Logs nothing at any level.</summary>
    public static ServerLog Silent { get; } = new(TextWriter.Null, LogLevel.None, LogFormat.Text, journal: false, TimeProvider.System);

    private readonly TextWriter _writer;
    private readonly LogLevel _minimum;
    private readonly LogFormat _format;
    private readonly bool _journal;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    // Reused under the lock: a line is built here and written in one call, so concurrent events never interleave.
    private readonly StringBuilder _line = new(256);
    private readonly JsonLogLine _json = new();

    /// <param name="verbose"><c>-verbose</c>: <see cref="LogLevel.Debug"/> events are written too.</param>
    /// <param name="format"><c>-log-format</c>.</param>
    /// <param name="journal">
    /// Stderr is the journal (<c>JOURNAL_STREAM</c>): every line starts with its syslog priority (<c>&lt;4&gt;</c>), so
    /// <c>journalctl -p</c> can select by level, and text lines carry no timestamp (the journal has its own).
    /// </param>
    /// <param name="time">The clock of the timestamps.</param>
    public ServerLog(TextWriter writer, bool verbose, LogFormat format = LogFormat.Text, bool journal = false, TimeProvider? time = null)
        : this(writer, verbose ? LogLevel.Debug : LogLevel.Information, format, journal, time ?? TimeProvider.System)
    {
    }

    private ServerLog(TextWriter writer, LogLevel minimum, LogFormat format, bool journal, TimeProvider time)
    {
        _writer = writer;
        _minimum = minimum;
        _format = format;
        _journal = journal;
        _time = time;
    }

    public LogFormat Format => _format;

    public bool IsJournal => _journal;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= _minimum && logLevel != LogLevel.None;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        string message = formatter(state, exception);
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            _line.Clear();
            if (_format == LogFormat.Json)
            {
                if (_journal) _line.Append(Priority(logLevel));
                _json.Append(_line, now, LevelName(logLevel), eventId, message, state as IReadOnlyList<KeyValuePair<string, object?>>, exception);
            }
            else
            {
                AppendText(logLevel, now, message, exception);
            }
            _line.Append('\n');
            // One write per line, flushed: stderr is read as it comes by systemd and by tests.
            foreach (var chunk in _line.GetChunks()) _writer.Write(chunk.Span);
            _writer.Flush();
        }
    }

    private void AppendText(LogLevel level, DateTimeOffset now, string message, Exception? exception)
    {
        int start = _line.Length;
        if (_journal) _line.Append(Priority(level));
        else _line.Append(System.Globalization.CultureInfo.InvariantCulture, $"{now.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ} ");
        _line.Append(LevelName(level)).Append(' ').Append(message);
        if (exception is not null) _line.Append('\n').Append(exception);
        if (!_journal) return;
        // journald splits the stream at each newline: every line of a stack trace (or of a field with a newline in it)
        // gets the event's priority too, and no text of ours can forge another line's priority.
        string priority = Priority(level);
        for (int i = _line.Length - 1; i > start; i--)
        {
            if (_line[i] == '\n') _line.Insert(i + 1, priority);
        }
    }

    /// <summary>The level word of a text line (Go's log levels) and of a JSON line's <c>level</c>.</summary>
    public static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => "DEBUG",
        LogLevel.Information => "INFO",
        LogLevel.Warning => "WARN",
        _ => "ERROR",
    };

    /// <summary>The syslog priority prefix journald reads (sd-daemon(3)): err, warning, info, debug.</summary>
    public static string Priority(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => "<7>",
        LogLevel.Information => "<6>",
        LogLevel.Warning => "<4>",
        LogLevel.Error => "<3>",
        _ => "<2>",
    };
}
