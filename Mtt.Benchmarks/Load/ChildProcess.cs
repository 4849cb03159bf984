using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Mtt.Benchmarks.Load;

/// <summary>
/// A process the harness started (the server under test, a floor relay). Its output is kept as log lines.
/// Every live child is also listed in a static set that a Ctrl+C, SIGTERM or an unhandled exit kills,
/// so no server outlives the harness.
/// </summary>
internal sealed partial class ChildProcess : IAsyncDisposable
{
    // How long a child has to stop on SIGTERM before it is killed outright.
    private static readonly TimeSpan GracefulStop = TimeSpan.FromSeconds(5);
    private const int SigTerm = 15;

    private static readonly ConcurrentDictionary<int, Process> Live = new();

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Action<string>? _lineSeen;
    private int _pid;
    private int? _exitCode;

    private ChildProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }


    public string Name { get; }

    public int Pid => _pid;

        public IReadOnlyCollection<string> Lines => _lines;

    /// <summary>Known once the child has been stopped or has died.</summary>
    public int? ExitCode => _exitCode;

    public static ChildProcess Start(string name, string fileName, IEnumerable<string> arguments, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments) info.ArgumentList.Add(argument);
        if (environment is not null)
        {
            foreach (var (key, value) in environment) info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(process, name);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        process.Exited += (_, _) => child._exited.TrySetResult();
        process.Start();
        child._pid = process.Id;
        Live[process.Id] = process;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits for a line of output that <paramref name="match"/> accepts, or fails when the child exits or time runs out.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _lineSeen = line => { if (match(line)) found.TrySetResult(line); };
        foreach (string line in _lines)
        {
            if (match(line)) found.TrySetResult(line);
        }
        var first = await Task.WhenAny(found.Task, _exited.Task).WaitAsync(timeout).ConfigureAwait(false);
        _lineSeen = null;
        if (first == found.Task) return found.Task.Result;
        throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before it was ready:{Environment.NewLine}{string.Join(Environment.NewLine, _lines)}");
    }

    /// <summary>Fails with the child's output when it has died.</summary>
    public void ThrowIfExited()
    {
        if (_process.HasExited)
            throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode}:{Environment.NewLine}{string.Join(Environment.NewLine, _lines)}");
    }

    /// <summary>SIGTERM, then a kill when it has not stopped in time.</summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, SigTerm);
            try
            {
                await _exited.Task.WaitAsync(GracefulStop).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                _lines.Enqueue($"[harness] {Name} ignored SIGTERM for {GracefulStop.TotalSeconds:0} s; killed");
                KillNow(_process);
            }
        }
        await _process.WaitForExitAsync().ConfigureAwait(false);
        _exitCode = _process.ExitCode;
        Live.TryRemove(_pid, out _);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        finally
        {
            _process.Dispose();
        }
    }

    /// <summary>Kills every child still alive: the last resort on Ctrl+C and at process exit.</summary>
    public static void KillAll()
    {
        foreach (var (pid, process) in Live)
        {
            KillNow(process);
            Live.TryRemove(pid, out _);
        }
    }

    private static void KillNow(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        _lines.Enqueue(line);
        _lineSeen?.Invoke(line);
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
