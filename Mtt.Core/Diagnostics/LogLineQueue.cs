using System.Collections.Concurrent;

namespace Mtt.Core.Diagnostics;

/// <summary>
/// The daemon's log lines on their way to stderr: a bounded queue drained by one dedicated thread, so a stalled
/// reader (journald behind, a pipe nobody reads) stalls only that thread, never a socket continuation that logged.
/// A full queue drops the line and counts it (<see cref="LinesDropped"/>); once the writer has caught up (the queue
/// half empty again) it writes one "N log lines dropped" line of its own.
/// </summary>
/// <remarks>
/// Every <see cref="TryEnqueue"/> and <see cref="Complete"/> is made under <see cref="ServerLog"/>'s lock, so
/// nothing is added after the queue is completed.
/// </remarks>
internal sealed class LogLineQueue
{
    // About 1 MiB of lines at most (a connection's debug line is ~150 bytes): seconds of a busy -verbose server,
    // enough to ride out a journald hiccup, bounded if stderr never comes back.
    public const int DefaultCapacity = 4096;

    private readonly BlockingCollection<string> _lines;
    private readonly TextWriter _writer;
    private readonly Thread _thread;
    private readonly Func<long, string> _noticeLine;
    private readonly int _caughtUp;
    private long _dropped;
    private long _unreported;

    /// <param name="noticeLine">The line (formatted as every other) that says how many lines were dropped.</param>
    public LogLineQueue(TextWriter writer, Func<long, string> noticeLine, int capacity = DefaultCapacity)
    {
        _writer = writer;
        _noticeLine = noticeLine;
        _caughtUp = capacity / 2;
        _lines = new BlockingCollection<string>(new ConcurrentQueue<string>(), capacity);
        // Background: a writer stuck on a dead stderr must not keep the process from exiting.
        _thread = new Thread(WriteLines) { IsBackground = true, Name = "mtt log writer" };
        _thread.Start();
    }

    /// <summary>Lines dropped since start because the queue was full.</summary>
    public long LinesDropped => Interlocked.Read(ref _dropped);

    /// <summary>False once <see cref="Complete"/> was called: lines are then written by the caller (the process is ending).</summary>
    public bool IsOpen => !_lines.IsAddingCompleted;

    /// <summary>Queues a line without waiting; a full queue counts it as dropped.</summary>
    public bool TryEnqueue(string line)
    {
        if (_lines.TryAdd(line)) return true;
        Interlocked.Increment(ref _dropped);
        Interlocked.Increment(ref _unreported);
        return false;
    }

    /// <summary>No more lines; what is queued is written.</summary>
    public void Complete() => _lines.CompleteAdding();

    /// <summary>Waits for the writer to finish what is queued, at most <paramref name="timeout"/>; false when stderr did not take it in time.</summary>
    public bool WaitWritten(TimeSpan timeout) => _thread.Join(timeout);

    private void WriteLines()
    {
        foreach (var line in _lines.GetConsumingEnumerable())
        {
            try
            {
                _writer.Write(line);
                int queued = _lines.Count;
                if (queued <= _caughtUp && Interlocked.Read(ref _unreported) is > 0 and long unreported)
                {
                    _writer.Write(_noticeLine(unreported));
                    Interlocked.Add(ref _unreported, -unreported);
                }
                // One flush per burst rather than per line: stderr is read as it comes, and a burst is one write less each.
                if (queued == 0) _writer.Flush();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // stderr is gone (its reader closed the pipe): the line is lost; logging must not end the server.
                Interlocked.Increment(ref _dropped);
            }
        }
    }
}
