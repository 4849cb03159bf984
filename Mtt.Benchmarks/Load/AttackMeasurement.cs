namespace Mtt.Benchmarks.Load;

/// <summary>
/// One phase of `load attack`: fresh clients one after another, each timed from connect to its 101 (TCP, TLS
/// unless plain, the upgrade), with no attack ("quiet") or while the flood is in place ("attack"). Failed: no
/// 101 within the client's timeout. AttackOpen: flood connections open as the phase ended; AttackReopened:
/// flood connections the server dropped (and the attacker opened again) during the phase.
/// </summary>
internal sealed record AttackMeasurement(
    string Phase,
    bool Tls,
    int Run,
    int Clients,
    int Failed,
    string? FirstFault,
    double MillisecondsP50,
    double MillisecondsP99,
    double MillisecondsMax,
    int AttackOpen,
    long AttackReopened);
