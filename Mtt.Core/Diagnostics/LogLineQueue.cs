using System.Collections.Concurrent;

namespace Mtt.Core.Diagnostics;

/// <summary>
/// The daemon's log lines on their way to stderr: a bounded queue drained by one dedicated thread, so a stalled
/// reader (journald behind, a pipe nobody reads) stalls only that thread, never a socket continuation that logged.
/// A full queue drops the line and counts it (<see cref="LinesDropped"/>); <see cref="ServerLog"/> then queues one
/// "N log lines dropped" line where the gap is, as soon as there is room again.
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
    private long _dropped;
    private long _unreported;

    public LogLineQueue(TextWriter writer, int capacity = DefaultCapacity)
    {
        _writer = writer;
        _lines = new BlockingCollection<string>(new ConcurrentQueue<string>(), capacity);
        // Background: a writer stuck on a dead stderr must not keep the process from exiting.
        _thread = new Thread(WriteLines) { IsBackground = true, Name = "mtt log writer" };
        _thread.Start();
    }

    /// <summary>Lines dropped since start because the queue was full.</summary>
    public long LinesDropped => Interlocked.Read(ref _dropped);

    /// <summary>Lines dropped and not yet reported by a notice line.</summary>
    public long Unreported => Interlocked.Read(ref _unreported);

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

    /// <summary>Queues a notice of dropped lines; a full queue drops it uncounted (the lines it reports stay unreported).</summary>
    public bool TryEnqueueNotice(string line) => _lines.TryAdd(line);

    /// <summary>A notice for <paramref name="count"/> dropped lines was queued.</summary>
    public void Reported(long count) => Interlocked.Add(ref _unreported, -count);

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
                // One flush per burst rather than per line: stderr is read as it comes, and a burst is one write less each.
                if (_lines.Count == 0) _writer.Flush();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // stderr is gone (its reader closed the pipe): the line is lost; logging must not end the server.
                Interlocked.Increment(ref _dropped);
            }
        }
    }
}
