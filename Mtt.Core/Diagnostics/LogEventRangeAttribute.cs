namespace Mtt.Core.Diagnostics;

/// <summary>
/// The event ids a class of log events owns: every area has its own range, so an id found in a log (or a
/// <c>journalctl</c> filter on it) names one event for good. A test holds every event inside its class's range.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class LogEventRangeAttribute(int first, int last) : Attribute
{
    public int First { get; } = first;

    public int Last { get; } = last;
}
