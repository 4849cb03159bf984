namespace Mtt.Benchmarks.Load;

/// <summary>Server memory around N idle tunnels: each RSS figure is the minimum of a few samples after a settle;
/// the single figures are the first open/close cycle's, the lists hold every cycle's.</summary>
internal sealed record IdleMeasurement(
    int Connections,
    bool Tls,
    double OpenSeconds,
    long RssBeforeKiB,
    long RssOpenKiB,
    long RssAfterKiB,
    long RssMaxKiB,
    double KiBPerConnection,
    double AfterBeforeRatio,
    long ThreadsBefore,
    long ThreadsOpen,
    long ThreadsAfter,
    double CloseSeconds,
    int BackendsLeftOpen,
    List<long> RssOpenKiBByCycle,
    List<long> RssAfterKiBByCycle);
