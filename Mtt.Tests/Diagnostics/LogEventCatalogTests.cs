using System.Reflection;
using Microsoft.Extensions.Logging;
using Mtt.Core.Diagnostics;

namespace Mtt.Tests.Diagnostics;

/// <summary>
/// Every typed log event of the server, found by reflection over the generated methods: its id is unique and inside
/// its class's range, the ranges do not overlap, its level is one an operator filters on, and a user path can only
/// ever be a field of a Debug event (written with <c>-verbose</c> only).
/// </summary>
public sealed class LogEventCatalogTests
{
    private static readonly LogLevel[] Levels = [LogLevel.Error, LogLevel.Warning, LogLevel.Information, LogLevel.Debug];

    private sealed record Event(Type Class, MethodInfo Method, LoggerMessageAttribute Attribute)
    {
        public string Name => Attribute.EventName ?? Method.Name;

        public override string ToString() => $"{Class.Name}.{Method.Name} ({Attribute.EventId})";
    }

    private static readonly Assembly[] Assemblies = [typeof(ServerLog).Assembly, typeof(Mtt.Daemon.Program).Assembly];

    private static List<Event> AllEvents() =>
        [.. from assembly in Assemblies
            from type in assembly.GetTypes()
            from method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            let attribute = method.GetCustomAttribute<LoggerMessageAttribute>()
            where attribute is not null
            select new Event(type, method, attribute)];

    [Fact]
    public void TheServerHasEventsInEveryArea()
    {
        var classes = AllEvents().Select(e => e.Class.Name).Distinct().Order().ToArray();
        Assert.Equal(["CertificateLog", "ClusterLog", "ControllerLog", "DaemonLog", "DiagnosticsLog", "ListeningLog", "MuxLog", "RelayLog"], classes);
        Assert.True(AllEvents().Count >= 70, $"only {AllEvents().Count} events found");
    }

    [Fact]
    public void EveryEventIdIsUnique_AndInsideItsClasssRange()
    {
        var events = AllEvents();
        var problems = new List<string>();
        foreach (var group in events.GroupBy(e => e.Attribute.EventId).Where(g => g.Count() > 1))
            problems.Add($"id {group.Key} is used by {string.Join(", ", group)}");
        foreach (var group in events.GroupBy(e => e.Name).Where(g => g.Count() > 1))
            problems.Add($"event name {group.Key} is used by {string.Join(", ", group)}");
        foreach (var e in events)
        {
            var range = e.Class.GetCustomAttribute<LogEventRangeAttribute>();
            if (range is null) problems.Add($"{e.Class.Name} has no [LogEventRange]");
            else if (e.Attribute.EventId < range.First || e.Attribute.EventId > range.Last)
                problems.Add($"{e} is outside {e.Class.Name}'s range {range.First}-{range.Last}");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems.Distinct()));
    }

    [Fact]
    public void TheRangesOfTheAreasDoNotOverlap()
    {
        var ranges = AllEvents().Select(e => e.Class).Distinct()
            .Select(c => (c.Name, Range: c.GetCustomAttribute<LogEventRangeAttribute>()!))
            .OrderBy(r => r.Range.First).ToArray();
        for (int i = 1; i < ranges.Length; i++)
        {
            Assert.True(ranges[i].Range.First > ranges[i - 1].Range.Last,
                $"{ranges[i - 1].Name} ({ranges[i - 1].Range.First}-{ranges[i - 1].Range.Last}) overlaps {ranges[i].Name} ({ranges[i].Range.First}-{ranges[i].Range.Last})");
        }
    }

    [Fact]
    public void EveryEventHasALevelAnOperatorFiltersOn()
    {
        Assert.All(AllEvents(), e => Assert.Contains(e.Attribute.Level, Levels));
    }

    [Fact]
    public void APathIsAFieldOfDebugEventsOnly()
    {
        var leaking = AllEvents()
            .Where(e => e.Attribute.Level != LogLevel.Debug)
            .Where(e => e.Method.GetParameters().Any(p => p.Name is "path" or "userPath" || p.Name!.EndsWith("Path", StringComparison.Ordinal)))
            .ToArray();
        Assert.True(leaking.Length == 0, "events above Debug with a path field: " + string.Join(", ", leaking.AsEnumerable()));
        Assert.Contains(AllEvents(), e => e.Attribute.Level == LogLevel.Debug && e.Method.GetParameters().Any(p => p.Name == "path"));
    }

    [Fact]
    public void NoFieldTakesTheNameOfAJsonLinesOwnProperty()
    {
        var clashes = from e in AllEvents()
                      from p in e.Method.GetParameters()
                      where !typeof(Exception).IsAssignableFrom(p.ParameterType) && JsonLogLine.ReservedNames.Contains(p.Name!)
                      select $"{e}: {p.Name}";
        Assert.Empty(clashes);
    }
}
