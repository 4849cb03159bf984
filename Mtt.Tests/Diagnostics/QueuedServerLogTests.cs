using System.Text;
using Microsoft.Extensions.Logging;
using Mtt.Core.Diagnostics;

namespace Mtt.Tests.Diagnostics;

/// <summary>
/// The daemon's log (<see cref="ServerLog.Queued"/>): a caller never waits for stderr; a full queue drops lines and
/// counts them, and the writer says how many once it has caught up; at exit the queue is written out.
/// </summary>
public sealed class QueuedServerLogTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly EventId Event = new(9999, "Test");

    [Fact]
    public async Task AStalledWriter_DropsAndCountsWhatDoesNotFit_ThenReportsIt_AndTheQueueIsWrittenInOrder()
    {
        var stderr = new GatedWriter();
        var log = ServerLog.Queued(stderr, verbose: false, LogFormat.Text, journal: false, capacity: 4);

        Log(log, "line 1");
        await stderr.Stalled.WaitAsync(Bound);
        // The writer is stuck in line 1's write: four lines fill the queue, three more are dropped, and no call waited.
        for (int i = 2; i <= 8; i++) Log(log, $"line {i}");
        Assert.Equal(3, log.LinesDropped);

        stderr.Release();
        Assert.True(log.Drain(Bound));
        var lines = stderr.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(6, lines.Length);
        Assert.EndsWith("INFO line 1", lines[0]);
        Assert.EndsWith("INFO line 2", lines[1]);
        Assert.EndsWith("INFO line 3", lines[2]);
        // Caught up (the queue half empty): the count of what was lost, then the rest of the queue.
        Assert.EndsWith("WARN 3 log lines dropped: stderr did not keep up", lines[3]);
        Assert.EndsWith("INFO line 4", lines[4]);
        Assert.EndsWith("INFO line 5", lines[5]);
        Assert.Equal(3, log.LinesDropped);
    }

    [Fact]
    public void AfterDrain_LinesAreWrittenDirectly()
    {
        var stderr = new GatedWriter();
        stderr.Release();
        var log = ServerLog.Queued(stderr, verbose: false, LogFormat.Json, journal: false);
        Log(log, "queued");
        Assert.True(log.Drain(Bound));
        Log(log, "after the drain");
        Assert.Contains("\"message\":\"after the drain\"", stderr.Text);
        Assert.Equal(0, log.LinesDropped);
    }

    [Fact]
    public void AStderrThatNeverTakesItsLines_BoundsTheDrain()
    {
        var stderr = new GatedWriter();
        var log = ServerLog.Queued(stderr, verbose: false, LogFormat.Text, journal: false);
        Log(log, "never written");
        Assert.False(log.Drain(TimeSpan.FromMilliseconds(200)));
        stderr.Release();
    }

    private static void Log(ServerLog log, string message) =>
        log.Log(LogLevel.Information, Event, message, null, static (text, _) => text);

    /// <summary>A stderr whose writes wait until released, as a pipe nobody reads does.</summary>
    private sealed class GatedWriter : TextWriter
    {
        private readonly ManualResetEventSlim _open = new();
        private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly StringBuilder _text = new();

        public override Encoding Encoding => Encoding.UTF8;

        public Task Stalled => _stalled.Task;

        public string Text
        {
            get { lock (_text) return _text.ToString(); }
        }

        public void Release() => _open.Set();

        public override void Write(char value) => Write(value.ToString());

        public override void Write(string? value)
        {
            if (!_open.IsSet)
            {
                _stalled.TrySetResult();
                _open.Wait();
            }
            lock (_text) _text.Append(value);
        }
    }
}
