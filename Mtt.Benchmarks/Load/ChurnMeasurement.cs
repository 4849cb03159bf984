namespace Mtt.Benchmarks.Load;

/// <summary>
/// One churn run through one target: Connections completed (connect, TLS, upgrade, one echo, close), Failed
/// ones apart. Server CPU is utime+stime over the churn alone. RSS: settled before, max and end sampled
/// during, settled after (what the process gave back). BackendDials: connections the echo backend accepted
/// meanwhile (one per connection expected). Connection times (connect to close done) in milliseconds.
/// </summary>
internal sealed record ChurnMeasurement(
    string Target,
    string Kind,
    bool Tls,
    int SmuxVersion,
    int Run,
    int Concurrency,
    int MessageSize,
    int Connections,
    int Failed,
    string? FirstFault,
    double Seconds,
    double ConnectionsPerSecond,
    double ServerCpuSeconds,
    double ServerCpuSecondsPerThousand,
    double ClientCpuSeconds,
    int BackendDials,
    long RssBeforeKiB,
    long RssMaxKiB,
    long RssEndKiB,
    long RssAfterKiB,
    double ConnectionMillisecondsP50,
    double ConnectionMillisecondsP99);
