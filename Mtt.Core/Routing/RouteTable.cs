using System.Text.Unicode;

namespace Mtt.Core.Routing;

/// <summary>
/// An immutable snapshot of the user table. A command builds the next table from this one; nothing
/// mutates a table after it is published, so readers need no lock (a Dictionary is safe for
/// concurrent readers when no writer exists).
/// </summary>
public sealed class RouteTable
{
    // Paths longer than this are refused by the controller, so a longer request path is a miss
    // without decoding it.
    public const int MaxPathBytes = 1024;

    public static RouteTable Empty { get; } = new(new Dictionary<string, Route>(StringComparer.Ordinal));

    private readonly Dictionary<string, Route> _routes;
    private readonly Dictionary<string, Route>.AlternateLookup<ReadOnlySpan<char>> _spanLookup;

    private RouteTable(Dictionary<string, Route> routes)
    {
        _routes = routes;
        _spanLookup = routes.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Count => _routes.Count;

    public IEnumerable<Route> Routes => _routes.Values;

    public bool TryGet(string path, out Route route) => _routes.TryGetValue(path, out route!);

    public bool TryGet(ReadOnlySpan<char> path, out Route route) => _spanLookup.TryGetValue(path, out route!);

    /// <summary>Looks up a request path as raw bytes (UTF-8), without allocating.</summary>
    public bool TryGetUtf8(ReadOnlySpan<byte> path, out Route route)
    {
        route = null!;
        if (path.Length > MaxPathBytes) return false;
        Span<char> chars = stackalloc char[MaxPathBytes];
        if (Utf8.ToUtf16(path, chars, out _, out int written, replaceInvalidSequences: false) != System.Buffers.OperationStatus.Done)
            return false;
        return _spanLookup.TryGetValue(chars[..written], out route!);
    }

    /// <summary>The next table: this one with <paramref name="routes"/> added, each overwriting an existing path.</summary>
    public RouteTable WithAdded(IReadOnlyList<Route> routes)
    {
        var next = new Dictionary<string, Route>(_routes, StringComparer.Ordinal);
        next.EnsureCapacity(_routes.Count + routes.Count);
        for (int i = 0; i < routes.Count; i++) next[routes[i].Path] = routes[i];
        return new RouteTable(next);
    }

    /// <summary>The next table: this one without <paramref name="paths"/>; unknown paths are ignored.</summary>
    public RouteTable WithRemoved(IReadOnlyList<string> paths)
    {
        var next = new Dictionary<string, Route>(_routes, StringComparer.Ordinal);
        for (int i = 0; i < paths.Count; i++) next.Remove(paths[i]);
        return new RouteTable(next);
    }
}
