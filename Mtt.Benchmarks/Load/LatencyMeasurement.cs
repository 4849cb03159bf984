namespace Mtt.Benchmarks.Load;

/// <summary>
/// One latency run through one target: Connections each made RoundTripsPerConnection round trips of
/// MessageSize bytes, one in flight at a time (the time from the send to the last byte of its echo).
/// Server CPU is the target process's utime+stime over the round trips, per round trip in microseconds.
/// </summary>
internal sealed record LatencyMeasurement(
    string Target,
    string Kind,
    bool Tls,
    int SmuxVersion,
    int Run,
    int Connections,
    int RoundTripsPerConnection,
    int MessageSize,
    double? Rate,
    double Seconds,
    double RoundTripsPerSecond,
    LatencyPercentiles Microseconds,
    double ServerCpuSeconds,
    double ServerCpuMicrosecondsPerRoundTrip,
    double ClientCpuSeconds,
    bool Exact,
    string? Fault);
