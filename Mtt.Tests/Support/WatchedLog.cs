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

    public override void WriteLine(string? value)
    {
        lock (_text)
        {
            _text.AppendLine(value);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (value is null || !value.Contains(_waiters[i].Text, StringComparison.Ordinal)) continue;
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
