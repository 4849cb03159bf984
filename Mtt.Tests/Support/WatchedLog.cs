using System.Text;
using Mtt.Core.Diagnostics;

namespace Mtt.Tests.Support;

/// <summary>A <see cref="ServerLog"/> whose lines a test can await, instead of polling the text.</summary>
public sealed class WatchedLog : TextWriter
{
    private readonly StringBuilder _text = new();
    private readonly List<(string Text, TaskCompletionSource Seen)> _waiters = [];

    public WatchedLog() => Log = new ServerLog(this, verbose: false);

    public ServerLog Log { get; }

    public override Encoding Encoding => Encoding.UTF8;

    public string Text
    {
        get { lock (_text) return _text.ToString(); }
    }

    // The log writes each line as chunks of one builder, then flushes: a waiter is checked against the whole text
    // at each flush, so a line split across chunks is still seen.
    public override void Write(ReadOnlySpan<char> buffer)
    {
        lock (_text) _text.Append(buffer);
    }

    public override void Write(char value)
    {
        lock (_text) _text.Append(value);
    }

    public override void Write(string? value)
    {
        lock (_text) _text.Append(value);
    }

    public override void WriteLine(string? value)
    {
        lock (_text) _text.AppendLine(value);
        Flush();
    }

    public override void Flush()
    {
        lock (_text)
        {
            if (_waiters.Count == 0) return;
            string text = _text.ToString();
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (!text.Contains(_waiters[i].Text, StringComparison.Ordinal)) continue;
                _waiters[i].Seen.TrySetResult();
                _waiters.RemoveAt(i);
            }
        }
    }

    /// <summary>Completes once a line containing <paramref name="text"/> has been written (at once if one has).</summary>
    public Task WaitForAsync(string text)
    {
        lock (_text)
        {
            if (_text.ToString().Contains(text, StringComparison.Ordinal)) return Task.CompletedTask;
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((text, seen));
            return seen.Task;
        }
    }
}
