namespace Mtt.Benchmarks.Load;

/// <summary>Server memory around N idle tunnels: each RSS figure is the minimum of a few samples after a settle;
/// the single figures are the first open/close cycle's, the lists hold every cycle's. SmuxVersion is 0 for smux_off tunnels;
/// BackendsDialled counts the backend connections accepted while the first cycle opened. Fds* are the server's open
/// descriptors (/proc/&lt;pid&gt;/fd) read with the RSS; FdsLeaked says a cycle ended with more than FdSlack over FdsBefore.
/// WarmupConnections: the tunnels (sessions) the server had served, one at a time, when RssBeforeKiB was read.</summary>
internal sealed record IdleMeasurement(
    int Connections,
    bool Tls,
    int SmuxVersion,
    int BackendsDialled,
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
    List<long> RssAfterKiBByCycle,
    int FdsBefore,
    List<int> FdsOpenByCycle,
    List<int> FdsAfterByCycle,
    int FdSlack,
    int WarmupConnections)
{
    public bool FdsLeaked => FdsAfterByCycle.Exists(after => after > FdsBefore + FdSlack);
}
