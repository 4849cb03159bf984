namespace Mtt.Tests.Support;

/// <summary>Lines a process prints, awaited by their text.</summary>
internal sealed class LineWaiter
{
    private readonly Lock _lock = new();
    private readonly List<string> _seen = [];
    private readonly List<(string Text, TaskCompletionSource Seen)> _waiting = [];

    public void Add(string? line)
    {
        if (line is null) return;
        lock (_lock)
        {
            _seen.Add(line);
            foreach (var waiter in _waiting.Where(w => w.Text == line)) waiter.Seen.TrySetResult();
        }
    }

    public Task WaitForAsync(string text)
    {
        lock (_lock)
        {
            if (_seen.Contains(text)) return Task.CompletedTask;
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiting.Add((text, seen));
            return seen.Task;
        }
    }
}
