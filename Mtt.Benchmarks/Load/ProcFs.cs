using System.Globalization;

namespace Mtt.Benchmarks.Load;

/// <summary>What Linux's /proc says about a process: CPU time, resident memory, open-file limits.</summary>
internal static class ProcFs
{
    // The USER_HZ that /proc/<pid>/stat counts in; 100 on every mainstream Linux, read once from getconf.
    private const int AssumedClockTicks = 100;

    private static readonly Lazy<int> ClockTicks = new(ReadClockTicks);

    public static int ClockTicksPerSecond => ClockTicks.Value;

    public static bool ClockTicksAssumed { get; private set; }

    /// <summary>utime + stime of <paramref name="pid"/>, in seconds (all threads, children not included).</summary>
    public static double ReadCpuSeconds(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name in field 2 may hold spaces and parentheses: fields are counted after the last ')'.
        var rest = stat.AsSpan(stat.LastIndexOf(')') + 2);
        // After ')' come field 3 (state) onwards; utime is field 14 and stime field 15 (proc(5)).
        long utime = 0, stime = 0;
        int field = 3;
        foreach (var range in rest.Split(' '))
        {
            if (field == 14) utime = long.Parse(rest[range], CultureInfo.InvariantCulture);
            if (field == 15)
            {
                stime = long.Parse(rest[range], CultureInfo.InvariantCulture);
                break;
            }
            field++;
        }
        return (double)(utime + stime) / ClockTicksPerSecond;
    }

    /// <summary>
    /// Context switches so far, summed over the live threads of <paramref name="pid"/> (voluntary ones are
    /// mostly waits for I/O): a proxy for wake-ups per byte, since socket calls do not show in /proc/&lt;pid&gt;/io.
    /// Threads that have exited are not counted.
    /// </summary>
    public static long ReadContextSwitches(int pid)
    {
        long total = 0;
        try
        {
            foreach (string task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                int tid = int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture);
                long voluntary = ReadStatusNumber(tid, "voluntary_ctxt_switches:");
                long involuntary = ReadStatusNumber(tid, "nonvoluntary_ctxt_switches:");
                if (voluntary > 0) total += voluntary;
                if (involuntary > 0) total += involuntary;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return total;
    }

    /// <summary>VmRSS of <paramref name="pid"/> in KiB, or -1 when the process is gone.</summary>
    public static long ReadRssKiB(int pid) => ReadStatusNumber(pid, "VmRSS:");

    /// <summary>The number on a "Name:   1234 kB" line of /proc/&lt;pid&gt;/status (kB lines are KiB); -1 when absent or the process is gone.</summary>
    public static long ReadStatusNumber(int pid, string name)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith(name, StringComparison.Ordinal)) continue;
                var value = line.AsSpan(name.Length).Trim();
                int space = value.IndexOf(' ');
                return long.Parse(space < 0 ? value : value[..space], CultureInfo.InvariantCulture);
            }
        }
        catch (IOException)
        {
        }
        return -1;
    }

    /// <summary>Descriptors <paramref name="pid"/> holds open now (entries of /proc/&lt;pid&gt;/fd), or -1 when the process is gone.</summary>
    public static int CountOpenFiles(int pid)
    {
        try
        {
            int count = 0;
            foreach (string _ in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd")) count++;
            return count;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }

    /// <summary>"soft/hard" of the open-files limit of <paramref name="pid"/> ("self" for this process).</summary>
    public static string ReadOpenFilesLimit(string pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/limits"))
            {
                if (!line.StartsWith("Max open files", StringComparison.Ordinal)) continue;
                var parts = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return $"{parts[0]}/{parts[1]}";
            }
        }
        catch (IOException)
        {
        }
        return "unknown";
    }

    private static int ReadClockTicks()
    {
        try
        {
            using var getconf = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("getconf", "CLK_TCK")
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            });
            if (getconf is not null)
            {
                string output = getconf.StandardOutput.ReadToEnd().Trim();
                getconf.WaitForExit();
                if (int.TryParse(output, NumberStyles.Integer, CultureInfo.InvariantCulture, out int ticks) && ticks > 0) return ticks;
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
        ClockTicksAssumed = true;
        return AssumedClockTicks;
    }
}
