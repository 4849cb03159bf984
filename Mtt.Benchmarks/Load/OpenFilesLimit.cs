using System.Runtime.InteropServices;

namespace Mtt.Benchmarks.Load;

/// <summary>
/// This process's RLIMIT_NOFILE. A process can raise its own soft limit up to its hard limit, not another
/// process's: the server, started after the raise, inherits it.
/// </summary>
internal static partial class OpenFilesLimit
{
    private const int RlimitNoFile = 7;

    [StructLayout(LayoutKind.Sequential)]
    private struct ResourceLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    /// <summary>Raises the soft limit to at least <paramref name="needed"/> when the hard limit allows; returns "soft/hard" after.</summary>
    public static string RaiseTo(long needed)
    {
        if (GetLimit(RlimitNoFile, out var limit) != 0) return "unknown";
        if (limit.Current < (ulong)needed)
        {
            var raised = limit with { Current = Math.Min(limit.Maximum, (ulong)needed) };
            if (SetLimit(RlimitNoFile, in raised) == 0) limit = raised;
            if (limit.Current < (ulong)needed)
                Progress.Write($"open-files limit {limit.Current} is below the {needed} this run needs (hard limit {limit.Maximum}); raise it with ulimit -Hn");
        }
        return $"{limit.Current}/{limit.Maximum}";
    }

    /// <summary>This process's soft limit now (what a child started now inherits); long.MaxValue when unknown.</summary>
    public static long Current() => GetLimit(RlimitNoFile, out var limit) == 0 ? (long)Math.Min(limit.Current, long.MaxValue) : long.MaxValue;

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetLimit(int resource, out ResourceLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetLimit(int resource, in ResourceLimit limit);
}
