using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Mtt.Tests.Support;

namespace Mtt.Tests.Interop;

/// <summary>
/// Debian's Chromium, headless, on one page, in a session (and process group) of its own made by
/// setsid, so that disposing kills the browser and every helper it forked (zygotes, renderers, the
/// network service) with one signal to the group. Its profile and configuration (where the crash
/// handlers keep their database) are a fresh directory, deleted after.
/// </summary>
public sealed partial class HeadlessChromium : IAsyncDisposable
{
    private const int SigKill = 9;
    private const int MaxLogChars = 64 * 1024;           // enough for the console lines and errors of one page
    private static readonly TimeSpan ExitBound = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan StragglerPollInterval = TimeSpan.FromMilliseconds(50);

    // The flags the closed network needs: without the background ones Chromium's own requests (updates,
    // sync, safe browsing) are refused and slow the start. No sandbox: the tests run as root.
    private static readonly string[] Flags =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--ignore-certificate-errors", "--enable-logging=stderr",
    ];

    private readonly Process _process;
    private readonly TemporaryDirectory _profile;
    private readonly StringBuilder _log = new();

    private HeadlessChromium(Process process, TemporaryDirectory profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>What Chromium printed (bounded), for failure messages.</summary>
    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    public static HeadlessChromium Open(Uri page)
    {
        string chromium = InteropAssets.RequireChromium();
        var profile = new TemporaryDirectory();
        var start = new ProcessStartInfo("setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(chromium);
        foreach (var flag in Flags) start.ArgumentList.Add(flag);
        start.ArgumentList.Add($"--user-data-dir={profile.Path}");
        start.ArgumentList.Add(page.ToString());
        start.Environment["XDG_CONFIG_HOME"] = profile.Path;
        start.Environment["XDG_CACHE_HOME"] = profile.Path;

        var process = new Process { StartInfo = start };
        var browser = new HeadlessChromium(process, profile);
        process.OutputDataReceived += (_, e) => browser.Append(e.Data);
        process.ErrorDataReceived += (_, e) => browser.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return browser;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log)
        {
            if (_log.Length < MaxLogChars) _log.AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // setsid does not fork when its caller is not a group leader (a .NET child never is), so the
        // browser keeps the process id and leads its own group: one kill reaches every process in it.
        if (!_process.HasExited) _ = Kill(-_process.Id, SigKill);
        try
        {
            _process.Kill(entireProcessTree: true); // anything that left the group
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        await _process.WaitForExitAsync().WaitAsync(ExitBound);
        // Nothing signals the end of a process that is not our child: look again until none is left.
        var waited = Stopwatch.StartNew();
        while (KillProcessesOfThisProfile() > 0)
        {
            if (waited.Elapsed > ExitBound) throw new TimeoutException($"Chromium processes of {_profile.Path} still running after {ExitBound.TotalSeconds} s");
            await Task.Delay(StragglerPollInterval);
        }
        _process.Dispose();
        _profile.Dispose();
    }

    /// <summary>
    /// Kills every process with this run's profile path in its command line and returns how many there
    /// were: the group's members not yet gone, and the crash handlers (chrome_crashpad_handler), which
    /// start sessions of their own and otherwise exit only once they notice the browser is gone.
    /// A process that has exited (a zombie) has an empty command line and is not counted.
    /// </summary>
    private int KillProcessesOfThisProfile()
    {
        int found = 0;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out int pid)) continue;
            string commandLine;
            try
            {
                commandLine = File.ReadAllText(Path.Combine(directory, "cmdline"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // ended while we looked
            }
            if (!commandLine.Contains(_profile.Path, StringComparison.Ordinal)) continue;
            found++;
            _ = Kill(pid, SigKill);
        }
        return found;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
