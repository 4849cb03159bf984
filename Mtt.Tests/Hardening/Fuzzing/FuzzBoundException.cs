namespace Mtt.Tests.Hardening.Fuzzing;

/// <summary>A parser call broke a bound of the fuzz run (time, allocation, progress, an invariant).</summary>
public sealed class FuzzBoundException(string message) : Exception(message);
