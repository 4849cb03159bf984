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
/// The daemon's log (<see cref="Queued"/>) hands its lines to a <see cref="LogLineQueue"/> of its own: an event may
/// be logged on a socket engine's thread (inline completions), which must never wait for stderr.
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
    // Null: each line is written and flushed by the caller (tests read what was logged at once).
    private readonly LogLineQueue? _queue;

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

    private ServerLog(TextWriter writer, LogLevel minimum, LogFormat format, bool journal, TimeProvider time, LogLineQueue? queue = null)
    {
        _queue = queue;
        _writer = writer;
        _minimum = minimum;
        _format = format;
        _journal = journal;
        _time = time;
    }

    /// <summary>
    /// The daemon's log: lines go through a bounded queue to one writer thread (<see cref="LogLineQueue"/>), so no
    /// caller ever waits for <paramref name="writer"/>; call <see cref="Drain"/> before the process ends.
    /// </summary>
    public static ServerLog Queued(TextWriter writer, bool verbose, LogFormat format, bool journal, int capacity = LogLineQueue.DefaultCapacity)
    {
        ServerLog? log = null;
        var queue = new LogLineQueue(writer, dropped => log!.DropNotice(dropped), capacity);
        log = new ServerLog(writer, verbose ? LogLevel.Debug : LogLevel.Information, format, journal, TimeProvider.System, queue);
        return log;
    }

    /// <summary>Lines dropped since start because stderr did not keep up (always 0 for a log that is not queued).</summary>
    public long LinesDropped => _queue?.LinesDropped ?? 0;

    /// <summary>
    /// At exit: what is queued is written, waiting at most <paramref name="timeout"/> for stderr to take it; later
    /// lines are written directly. False when stderr did not take the queue in time (its lines are lost).
    /// </summary>
    public bool Drain(TimeSpan timeout)
    {
        if (_queue is null) return true;
        lock (_lock)
        {
            if (_queue.IsOpen) _queue.Complete();
        }
        return _queue.WaitWritten(timeout);
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
            BuildLine(logLevel, now, eventId, message, state as IReadOnlyList<KeyValuePair<string, object?>>, exception);
            if (_queue is { IsOpen: true })
            {
                _queue.TryEnqueue(_line.ToString());
                return;
            }
            // One write per line, flushed: stderr is read as it comes by systemd and by tests.
            foreach (var chunk in _line.GetChunks()) _writer.Write(chunk.Span);
            _writer.Flush();
        }
    }

    private void BuildLine(LogLevel level, DateTimeOffset now, EventId eventId, string message, IReadOnlyList<KeyValuePair<string, object?>>? fields,
        Exception? exception)
    {
        _line.Clear();
        if (_format == LogFormat.Json)
        {
            if (_journal) _line.Append(Priority(level));
            _json.Append(_line, now, LevelName(level), eventId, message, fields, exception);
        }
        else
        {
            AppendText(level, now, message, exception);
        }
        _line.Append('\n');
    }

    // The writer thread's line once it has caught up after drops: written by it directly, not through the full queue.
    private string DropNotice(long dropped)
    {
        lock (_lock)
        {
            BuildLine(LogLevel.Warning, _time.GetUtcNow(), LinesDroppedEvent, $"{dropped} log lines dropped: stderr did not keep up",
                [new KeyValuePair<string, object?>("dropped", dropped)], null);
            return _line.ToString();
        }
    }

    // In DiagnosticsLog's range (6000-6099); made here, since it cannot go through the queue it reports on as other events do.
    private static readonly EventId LinesDroppedEvent = new(6004, "LogLinesDropped");

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
