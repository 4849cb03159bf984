namespace Mtt.Core.Diagnostics;

/// <summary>
/// The server's log: one line per event on a text writer (stderr under systemd, which adds its own
/// timestamps to the journal). Verbose lines are for per-connection detail and may name secrets such as
/// user paths, so they are written only when the operator asked for them with <c>-verbose</c>.
/// </summary>
public sealed class ServerLog
{
    public static ServerLog Silent { get; } = new(TextWriter.Null, verbose: false);

    private readonly TextWriter _writer;
    private readonly Lock _lock = new();

    public ServerLog(TextWriter writer, bool verbose)
    {
        _writer = writer;
        IsVerbose = verbose;
    }

    public bool IsVerbose { get; }

    public void Info(string message) => Write("INFO", message);

    public void Warn(string message) => Write("WARN", message);

    public void Error(string message) => Write("ERROR", message);

    /// <summary>Only with <c>-verbose</c>; callers check <see cref="IsVerbose"/> first when the message costs work to build.</summary>
    public void Verbose(string message)
    {
        if (IsVerbose) Write("DEBUG", message);
    }

    private void Write(string level, string message)
    {
        string line = $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {level} {message}";
        lock (_lock)
        {
            _writer.WriteLine(line);
            _writer.Flush();
        }
    }
}
