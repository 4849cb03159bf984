using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Mtt.Tests.Support;

/// <summary>The real <c>mtt-mu-server</c> executable (built next to the tests) run as its own process.</summary>
public sealed partial class DaemonProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly StringBuilder _stdout = new();
    private readonly TaskCompletionSource<(int Tunnel, int Controller)> _ports = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<int> _controllerPortSeen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<(string Text, TaskCompletionSource Seen)> _stderrWaiters = [];
    private int _tunnelPort;
    private int _controllerPort;

    private DaemonProcess(Process process)
    {
        _process = process;
    }

    /// <summary>The daemon's process id (or, started through bash's ulimit, that of the process bash became).</summary>
    public int Pid => _process.Id;

    public string Stderr
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    public string Stdout
    {
        get { lock (_stdout) return _stdout.ToString(); }
    }

    public static DaemonProcess Start(params string[] args) => Start(new Dictionary<string, string>(), args);

    /// <summary>Starts the daemon with <paramref name="environment"/> added to the test's own environment.</summary>
    public static DaemonProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo(Executable);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        foreach (var (name, value) in environment) info.Environment[name] = value;
        return Start(info);
    }

    /// <summary>Another build of the daemon, run by <paramref name="program"/> (e.g. an emulator) with <paramref name="args"/>.</summary>
    public static DaemonProcess StartProgram(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        return Start(info);
    }

    /// <summary>The daemon with at most <paramref name="openFiles"/> descriptors (soft and hard, so .NET cannot raise it), through bash's ulimit.</summary>
    public static DaemonProcess StartWithOpenFileLimit(int openFiles, params string[] args)
    {
        var info = new ProcessStartInfo("/bin/bash");
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"ulimit -n {openFiles} && exec \"$0\" \"$@\"");
        info.ArgumentList.Add(Executable);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        return Start(info);
    }

    /// <summary>
    /// The daemon with its stderr redirected by bash to <paramref name="stderrPath"/> (a file or a named pipe), so the
    /// test knows what stderr is; <see cref="Stderr"/> stays empty.
    /// </summary>
    public static DaemonProcess StartWithStderrTo(string stderrPath, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo("/bin/bash");
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"${@:2}\" 2>\"$1\"");
        info.ArgumentList.Add("mtt-mu-server");
        info.ArgumentList.Add(stderrPath);
        info.ArgumentList.Add(Executable);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        foreach (var (name, value) in environment) info.Environment[name] = value;
        return Start(info);
    }

    // MTT_TEST_DAEMON runs these tests against another build, e.g. the native AOT one (README).
    private static string Executable =>
        Environment.GetEnvironmentVariable("MTT_TEST_DAEMON") is { Length: > 0 } other ? other : Path.Combine(AppContext.BaseDirectory, "mtt-mu-server");

    private static DaemonProcess Start(ProcessStartInfo info)
    {
        info.RedirectStandardError = true;
        info.RedirectStandardOutput = true;
        info.UseShellExecute = false;
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var daemon = new DaemonProcess(process);
        process.ErrorDataReceived += (_, e) => daemon.OnStderr(e.Data);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (daemon._stdout) daemon._stdout.AppendLine(e.Data);
        };
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return daemon;
    }

    /// <summary>The ports the daemon reports in its start-up lines (it may have been given port 0).</summary>
    public Task<(int Tunnel, int Controller)> Ports => _ports.Task;

    /// <summary>The controller's port alone, for a tunnel listener on a Unix socket (-bind-unix), which has none.</summary>
    public Task<int> ControllerPort => _controllerPortSeen.Task;

    private void OnStderr(string? line)
    {
        if (line is null) return;
        lock (_stderr)
        {
            _stderr.AppendLine(line);
            for (int i = _stderrWaiters.Count - 1; i >= 0; i--)
            {
                if (!line.Contains(_stderrWaiters[i].Text, StringComparison.Ordinal)) continue;
                _stderrWaiters[i].Seen.TrySetResult();
                _stderrWaiters.RemoveAt(i);
            }
        }
        if (TunnelLine().Match(line) is { Success: true } tunnel) _tunnelPort = int.Parse(tunnel.Groups[1].Value);
        if (ControllerLine().Match(line) is { Success: true } controller)
        {
            _controllerPort = int.Parse(controller.Groups[1].Value);
            _controllerPortSeen.TrySetResult(_controllerPort);
        }
        if (_tunnelPort != 0 && _controllerPort != 0) _ports.TrySetResult((_tunnelPort, _controllerPort));
    }

    /// <summary>Completes once a line of stderr contains <paramref name="text"/> (at once if one already has).</summary>
    public Task WaitForStderrAsync(string text)
    {
        lock (_stderr)
        {
            if (_stderr.ToString().Contains(text, StringComparison.Ordinal)) return Task.CompletedTask;
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _stderrWaiters.Add((text, seen));
            return seen.Task;
        }
    }

    /// <summary>Waits for the process to exit and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    /// <summary>Asks the daemon to stop as systemd would, with SIGTERM.</summary>
    public Task TerminateAsync() => SignalAsync("TERM");

    /// <summary>Sends a signal by name (<c>TERM</c>, <c>HUP</c>, ...) as <c>kill -NAME pid</c> does.</summary>
    public async Task SignalAsync(string name)
    {
        using var kill = Process.Start("kill", [$"-{name}", _process.Id.ToString()]);
        await kill.WaitForExitAsync();
    }

    /// <summary>Kills the daemon with SIGKILL, as a crash or an OOM kill would: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    [GeneratedRegex(@"tunnel listener on [^ ]*:(\d+) ")]
    private static partial Regex TunnelLine();

    [GeneratedRegex(@"controller listening on [^ ]*:(\d+)")]
    private static partial Regex ControllerLine();
}
