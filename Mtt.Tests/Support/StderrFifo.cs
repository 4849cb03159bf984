using System.Diagnostics;
using System.Text;

namespace Mtt.Tests.Support;

/// <summary>
/// A named pipe that a daemon's stderr is redirected to, read line by line as the daemon writes. Unlike the pipe
/// <see cref="Process"/> makes, it has a path, so a test can learn its <c>device:inode</c> (as systemd puts it in
/// <c>JOURNAL_STREAM</c>) from coreutils' <c>stat</c>, independently of the server's own reading of it.
/// </summary>
public sealed class StderrFifo : IAsyncDisposable
{
    private readonly TemporaryDirectory _directory;
    private readonly List<string> _lines = [];
    private readonly List<(string Text, TaskCompletionSource<string> Seen)> _waiters = [];
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _reading = Task.CompletedTask;

    private StderrFifo(TemporaryDirectory directory, string path, string deviceAndInode)
    {
        _directory = directory;
        Path = path;
        DeviceAndInode = deviceAndInode;
    }

    public string Path { get; }

    /// <summary>As <c>stat -c %d:%i</c> prints it: the form of <c>JOURNAL_STREAM</c>.</summary>
    public string DeviceAndInode { get; }

    /// <summary>Completes when the writer has closed its end (the daemon has exited).</summary>
    public Task Closed => _closed.Task;

    public string[] Lines
    {
        get { lock (_lines) return [.. _lines]; }
    }

    public static async Task<StderrFifo> CreateAsync()
    {
        var directory = new TemporaryDirectory();
        string path = directory.File("stderr");
        await MakeAsync(path);
        return new StderrFifo(directory, path, await IdentityOfAsync(path));
    }

    /// <summary>Makes a named pipe at <paramref name="path"/> (coreutils' mkfifo), for the tests that need one of their own.</summary>
    public static Task MakeAsync(string path) => RunAsync("mkfifo", path);

    /// <summary>The device:inode of <paramref name="path"/> as coreutils' stat prints it.</summary>
    public static async Task<string> IdentityOfAsync(string path) => (await RunAsync("stat", "-c", "%d:%i", path)).Trim();

    /// <summary>Opens the reading end (which waits for the writer to open its end) and reads lines until the writer closes.</summary>
    public void StartReading() => _reading = Task.Run(ReadAsync);

    private async Task ReadAsync()
    {
        try
        {
            using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            while (await reader.ReadLineAsync() is { } line)
            {
                lock (_lines)
                {
                    _lines.Add(line);
                    for (int i = _waiters.Count - 1; i >= 0; i--)
                    {
                        if (!line.Contains(_waiters[i].Text, StringComparison.Ordinal)) continue;
                        _waiters[i].Seen.TrySetResult(line);
                        _waiters.RemoveAt(i);
                    }
                }
            }
            _closed.TrySetResult();
        }
        catch (Exception e)
        {
            _closed.TrySetException(e);
        }
    }

    /// <summary>The first line that contains <paramref name="text"/>, once one has been read.</summary>
    public Task<string> WaitForLineAsync(string text)
    {
        lock (_lines)
        {
            foreach (var line in _lines)
            {
                if (line.Contains(text, StringComparison.Ordinal)) return Task.FromResult(line);
            }
            var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((text, seen));
            return seen.Task;
        }
    }

    private static async Task<string> RunAsync(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        if (process.ExitCode != 0) throw new InvalidOperationException($"{program} failed: {await process.StandardError.ReadToEndAsync()}");
        return output;
    }

    public async ValueTask DisposeAsync()
    {
        // The reader ends when the writer (the daemon, killed by then) has closed its end.
        await _reading.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
        _directory.Dispose();
    }
}
