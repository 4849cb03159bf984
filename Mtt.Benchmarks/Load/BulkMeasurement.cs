namespace Mtt.Benchmarks.Load;

/// <summary>
/// One echo through one target. MB are 10^6 bytes and GB 10^9; "bytes" are the payload sent one way (each
/// also came back). CPU is the target process's utime+stime over the echo alone;
/// context switches are summed over its threads, per MB sent one way. StreamsPerTunnel is 1 but for smux sessions.
/// </summary>
internal sealed record BulkMeasurement(
    string Target,
    string Kind,
    bool Tls,
    int Tunnels,
    int StreamsPerTunnel,
    int Run,
    long Bytes,
    double Seconds,
    double MegabytesPerSecond,
    double ServerCpuSeconds,
    double ServerCpuSecondsPerGigabyte,
    double ClientCpuSeconds,
    double ServerContextSwitchesPerMegabyte,
    long RssStartKiB,
    long RssMaxKiB,
    long RssEndKiB,
    int RssSamples,
    bool Exact,
    string? Fault);
