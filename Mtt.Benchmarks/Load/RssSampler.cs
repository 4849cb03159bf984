namespace Mtt.Benchmarks.Load;

/// <summary>Samples a process's resident set on a fixed period while a measurement runs: start, max, end.</summary>
internal sealed class RssSampler : IAsyncDisposable
{
    // Often enough to catch a burst of buffers during a few-second echo, rarely enough to cost nothing.
    public static readonly TimeSpan DefaultPeriod = TimeSpan.FromMilliseconds(250);

    private readonly int _pid;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _max;
    private int _samples;

    private RssSampler(int pid, TimeSpan period)
    {
        _pid = pid;
        StartKiB = ProcFs.ReadRssKiB(pid);
        _max = StartKiB;
        _samples = 1;
        _loop = SampleAsync(period);
    }

    public long StartKiB { get; }

    public long MaxKiB => Interlocked.Read(ref _max);

    public long EndKiB { get; private set; } = -1;

    public int Samples => _samples;

    public static RssSampler Start(int pid) => new(pid, DefaultPeriod);

    /// <summary>Stops sampling and takes the end sample.</summary>
    public async Task StopAsync()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        await _loop.ConfigureAwait(false);
        EndKiB = Take();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task SampleAsync(TimeSpan period)
    {
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false)) Take();
        }
        catch (OperationCanceledException)
        {
        }
    }

    private long Take()
    {
        long rss = ProcFs.ReadRssKiB(_pid);
        Interlocked.Increment(ref _samples);
        long seen;
        while (rss > (seen = Interlocked.Read(ref _max)) && Interlocked.CompareExchange(ref _max, rss, seen) != seen)
        {
        }
        return rss;
    }
}
