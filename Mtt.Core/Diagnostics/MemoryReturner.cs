using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Mtt.Core.Diagnostics;

/// <summary>
/// Gives memory back to the system after many connections have ended (issue 6): the GC keeps its heap
/// committed for reuse and glibc keeps freed chunks in its arenas, so without this the RSS stays near its
/// peak (3.3–3.5× the starting RSS after 5,000 idle TLS tunnels close; docs/benchmarks.md). Once the count
/// of open connections has fallen to a quarter of its peak, a background task waits for the closing to
/// settle, then runs one aggressive compacting collection (which decommits the freed heap) and glibc's
/// <c>malloc_trim(0)</c>, and logs the RSS before and after. Once the thread pool has retired the threads it grew for
/// the burst, a second <c>malloc_trim(0)</c> returns what their caches held (issue 14). Rate-limited; never on an
/// accept or I/O path: a connection's end costs two reads and a comparison.
/// </summary>
internal sealed partial class MemoryReturner
{
    // Below this peak, what the ended connections held (~50 KiB each, ~12 MiB) is not worth a full
    // compacting collection, which pauses every thread for tens of milliseconds.
    internal const int MinimumPeak = 256;

    // "Well below the peak": most of what the peak held is garbage or free chunks by then.
    private const int PeakToActiveRatio = 4;

    // At most one trim per interval: a busy server whose load swings does not collect over and over.
    internal static readonly TimeSpan MinimumInterval = TimeSpan.FromSeconds(30);

    // Connections end in a burst (a client fleet going away): trim once the count has stopped moving for one
    // poll, so the memory of the last of them is returned too, but no later than the settle limit.
    private static readonly TimeSpan SettlePoll = TimeSpan.FromMilliseconds(250);
    private const int MaxSettlePolls = 40;

    // glibc gives each thread a cache of freed chunks (tcache: up to 7 per size class) and each busy thread an arena:
    // while a pool thread lives, its cached chunks sit scattered over arena pages that malloc_trim cannot give back
    // (after 5,000 tunnels closed, ~9 MiB of pages held by ~4 MiB of chunks; docs/benchmarks.md, "Idle memory after
    // close"). The pool retires a thread after 20 s without work (its ThreadTimeoutMs default), which hands the cache
    // back: the threads that worked in the burst go 20 s after it, and some that idled through it earlier, so trim
    // again once that time has passed and the pool's count has held for a poll, or at the limit.
    internal static readonly TimeSpan PoolThreadTimeout = TimeSpan.FromSeconds(20);
    internal static readonly TimeSpan PoolThreadPoll = TimeSpan.FromSeconds(1);
    internal static readonly TimeSpan PoolThreadsLimit = TimeSpan.FromSeconds(30);

    private readonly ILogger _log;
    private readonly Func<int> _activeConnections;
    private readonly TimeProvider _time;
    private readonly Func<int> _poolThreads;
    private int _peak;
    private int _scheduled;
    // The time provider's timestamp of the last trim's end; NoTrimYet before the first.
    private long _lastTrimTimestamp = NoTrimYet;
    private const long NoTrimYet = long.MinValue;

    private static int s_mallocTrimMissing = OperatingSystem.IsLinux() ? 0 : 1;

    /// <param name="time">The clock of the interval and the settle polls; tests pass a fake one.</param>
    /// <param name="poolThreads">The thread pool's thread count (<see cref="ThreadPool.ThreadCount"/>); tests pass their own.</param>
    public MemoryReturner(ILogger log, Func<int> activeConnections, TimeProvider? time = null, Func<int>? poolThreads = null)
    {
        _log = log;
        _activeConnections = activeConnections;
        _time = time ?? TimeProvider.System;
        _poolThreads = poolThreads ?? (static () => ThreadPool.ThreadCount);
    }

    /// <summary>Completes when the trim under way (if any) has logged its lines (the second one 20–30 s after the first); for tests.</summary>
    internal Task LastTrim { get; private set; } = Task.CompletedTask;

    /// <summary>A connection was accepted and <paramref name="active"/> are now open: raises the peak.</summary>
    public void ConnectionOpened(int active)
    {
        int peak = Volatile.Read(ref _peak);
        while (active > peak)
        {
            int seen = Interlocked.CompareExchange(ref _peak, active, peak);
            if (seen == peak) return;
            peak = seen;
        }
    }

    /// <summary>A connection ended and <paramref name="active"/> are still open: schedules a trim when the count has fallen well below its peak.</summary>
    public void ConnectionEnded(int active)
    {
        int peak = Volatile.Read(ref _peak);
        if (peak < MinimumPeak || active > peak / PeakToActiveRatio) return;
        if (Interlocked.CompareExchange(ref _scheduled, 1, 0) != 0) return;
        LastTrim = Task.Run(TrimWhenSettledAsync);
    }

    private async Task TrimWhenSettledAsync()
    {
        int openAtTrim = 0;
        try
        {
            long lastTrim = Volatile.Read(ref _lastTrimTimestamp);
            if (lastTrim != NoTrimYet)
            {
                var wait = MinimumInterval - _time.GetElapsedTime(lastTrim);
                if (wait > TimeSpan.Zero) await Task.Delay(wait, _time).ConfigureAwait(false);
            }
            int previous = _activeConnections();
            for (int poll = 0; poll < MaxSettlePolls && previous > 0; poll++)
            {
                await Task.Delay(SettlePoll, _time).ConfigureAwait(false);
                int now = _activeConnections();
                if (now == previous) break;
                previous = now;
            }
            // A trim deferred by the interval may find the server busy again: then it is not worth the pause.
            if (previous <= Volatile.Read(ref _peak) / PeakToActiveRatio)
            {
                int poolThreads = _poolThreads();
                Trim();
                await TrimWhenPoolThreadsEndedAsync(poolThreads).ConfigureAwait(false);
            }
            // What was open as it ran is the next peak: if those end too (on a busy machine the closing of a burst
            // can stall for a poll, and the trim then runs with hundreds still open), their memory is returned by
            // the next trim, one interval later.
            openAtTrim = previous;
        }
        catch (Exception e)
        {
            DiagnosticsLog.MemoryTrimFailed(_log, e.GetType().Name, e.Message);
        }
        finally
        {
            Volatile.Write(ref _peak, Math.Max(openAtTrim, _activeConnections()));
            Volatile.Write(ref _lastTrimTimestamp, _time.GetTimestamp());
            Volatile.Write(ref _scheduled, 0);
        }
        // Connections that ended while this ran found a trim scheduled and were not looked at: look now.
        ConnectionEnded(_activeConnections());
    }

    private void Trim()
    {
        int peak = Volatile.Read(ref _peak);
        long before = ResidentBytes();
        long started = _time.GetTimestamp();
        // Ended tunnels' SafeHandles may still hold native state until their finalizers run: collect, let them
        // run, then compact what is left. Aggressive decommits the freed regions instead of keeping them.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
        GC.WaitForPendingFinalizers();
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        bool trimmed = TryMallocTrim();
        long after = ResidentBytes();
        DiagnosticsLog.MemoryReturned(_log, _activeConnections(), peak, Mib(before), Mib(after), (long)_time.GetElapsedTime(started).TotalMilliseconds, trimmed);
    }

    /// <summary>The second trim: once the pool's idle threads have had <see cref="PoolThreadTimeout"/> to end and its count
    /// has held for a poll, or at <see cref="PoolThreadsLimit"/>; skipped if the server has become busy again meanwhile.</summary>
    private async Task TrimWhenPoolThreadsEndedAsync(int poolThreadsAtTrim)
    {
        long started = _time.GetTimestamp();
        await Task.Delay(PoolThreadTimeout, _time).ConfigureAwait(false);
        int previous = _poolThreads();
        while (_time.GetElapsedTime(started) < PoolThreadsLimit)
        {
            await Task.Delay(PoolThreadPoll, _time).ConfigureAwait(false);
            int now = _poolThreads();
            if (now == previous) break;
            previous = now;
        }
        int open = _activeConnections();
        if (open > Volatile.Read(ref _peak) / PeakToActiveRatio) return;
        long before = ResidentBytes();
        bool trimmed = TryMallocTrim();
        DiagnosticsLog.MemoryReturnedAfterPoolThreads(_log, poolThreadsAtTrim, previous, open, Mib(before), Mib(ResidentBytes()), trimmed);
    }

    private static double Mib(long bytes) => bytes / (1024.0 * 1024.0);

    private static bool TryMallocTrim()
    {
        if (Volatile.Read(ref s_mallocTrimMissing) != 0) return false;
        try
        {
            MallocTrim(0);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // musl and other C libraries without malloc_trim: the GC half still runs.
            Volatile.Write(ref s_mallocTrimMissing, 1);
            return false;
        }
    }

    /// <summary>This process's resident set from /proc/self/statm (pages × page size); -1 where there is none.</summary>
    internal static long ResidentBytes()
    {
        try
        {
            var fields = File.ReadAllText("/proc/self/statm").Split(' ');
            return long.Parse(fields[1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return -1;
        }
    }

    // glibc: frees the top of every arena and releases whole free pages inside them (madvise) back to the kernel.
    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
