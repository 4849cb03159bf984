using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Mtt.Tests.Support;

/// <summary>
/// A real <c>redis-server</c> (Debian's package, installed by .ci/install-test-prerequisites.sh) on a free loopback
/// port, without persistence (<c>--save "" --appendonly no</c>), as the fault tests need it: paused with SIGSTOP,
/// killed, and started again on the same port, empty.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private const string Executable = "redis-server";
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(15);

    private Process _process;
    private bool _paused;

    private RedisServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>What <c>-redis</c> is given.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    public int Pid => _process.Id;

    public static async Task<RedisServer> StartAsync()
    {
        // A port the kernel just handed out is free; another test could take it before redis binds, so a failed
        // start is tried again on a new one.
        for (int attempt = 1; ; attempt++)
        {
            int port = FreePort();
            try
            {
                return new RedisServer(await LaunchAsync(port), port);
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
            }
        }
    }

    /// <summary>SIGSTOP: the server holds its connections and answers nothing, as a hung or swapped-out Redis.</summary>
    public async Task PauseAsync()
    {
        await SignalAsync("STOP");
        _paused = true;
    }

    public async Task ResumeAsync()
    {
        await SignalAsync("CONT");
        _paused = false;
    }

    /// <summary>SIGKILL: connections reset, every key lost (no persistence).</summary>
    public async Task KillAsync()
    {
        if (_paused) await ResumeAsync();
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>A new, empty redis-server on the same port, as a restart without persistence leaves it.</summary>
    public async Task RestartAsync()
    {
        if (!_process.HasExited) await KillAsync();
        _process.Dispose();
        _process = await LaunchAsync(Port);
    }

    private static async Task<Process> LaunchAsync(int port)
    {
        var info = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no" })
            info.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (Win32Exception e)
        {
            throw new InvalidProgramException($"{Executable} is not installed ({e.Message}): run .ci/install-test-prerequisites.sh (apt-get install redis-server)");
        }
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) { ready.TrySetException(new InvalidOperationException($"redis-server exited: {output}")); return; }
            lock (output) output.AppendLine(e.Data);
            if (e.Data.Contains("Ready to accept connections", StringComparison.Ordinal)) ready.TrySetResult();
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await ready.Task.WaitAsync(StartBound);
        }
        catch
        {
            if (!process.HasExited) process.Kill();
            throw;
        }
        return process;
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private async Task SignalAsync(string name)
    {
        using var kill = Process.Start("kill", [$"-{name}", _process.Id.ToString()]);
        await kill.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            if (_paused) await ResumeAsync();
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
