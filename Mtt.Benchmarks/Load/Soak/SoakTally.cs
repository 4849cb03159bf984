using System.Collections.Concurrent;

namespace Mtt.Benchmarks.Load.Soak;

/// <summary>What the soak's clients saw, counted from many tasks at once.</summary>
internal sealed class SoakTally
{
    private readonly ConcurrentDictionary<string, long> _counts = new();
    private readonly ConcurrentQueue<string> _faults = new();
    private long _echoedBytes;

    public long EchoedBytes => Interlocked.Read(ref _echoedBytes);

    public IEnumerable<KeyValuePair<string, long>> Counts => _counts.OrderBy(c => c.Key, StringComparer.Ordinal);

    /// <summary>Valid clients that failed: the first few, with why.</summary>
    public IReadOnlyCollection<string> Faults => _faults;

    public long FaultCount => Get("valid failed");

    public void Add(string what, long by = 1) => _counts.AddOrUpdate(what, by, (_, n) => n + by);

    public long Get(string what) => _counts.TryGetValue(what, out long n) ? n : 0;

    public void Echoed(long bytes) => Interlocked.Add(ref _echoedBytes, bytes);

    public void Fault(string what)
    {
        Add("valid failed");
        if (_faults.Count < 10) _faults.Enqueue($"{DateTime.UtcNow:HH:mm:ss} {what}");
    }
}
