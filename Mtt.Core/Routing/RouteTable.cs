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
    public RouteTable WithAdded(IReadOnlyList<Route> routes) => WithAdded(routes, displaced: null);

    /// <summary>
    /// The next table: this one with <paramref name="routes"/> added, each overwriting an existing path. A user
    /// whose path and dst stay the same keeps its state (counters, live tunnels); the state of one whose dst
    /// changes goes into <paramref name="displaced"/>, for the caller to revoke once the table is published.
    /// </summary>
    public RouteTable WithAdded(IReadOnlyList<Route> routes, List<UserState>? displaced)
    {
        var next = new Dictionary<string, Route>(_routes, StringComparer.Ordinal);
        next.EnsureCapacity(_routes.Count + routes.Count);
        for (int i = 0; i < routes.Count; i++)
        {
            var route = routes[i];
            if (_routes.TryGetValue(route.Path, out var existing) && existing.Backend == route.Backend && existing.State != route.State)
                route = route with { State = existing.State };
            next[route.Path] = route;
        }
        if (displaced is not null)
        {
            // A path given twice in one batch is looked at once.
            var seen = new HashSet<UserState>(ReferenceEqualityComparer.Instance);
            for (int i = 0; i < routes.Count; i++)
            {
                if (_routes.TryGetValue(routes[i].Path, out var existing) && next[existing.Path].State != existing.State
                    && seen.Add(existing.State))
                    displaced.Add(existing.State);
            }
        }
        return new RouteTable(next);
    }

    /// <summary>The next table: this one without <paramref name="paths"/>; unknown paths are ignored.</summary>
    public RouteTable WithRemoved(IReadOnlyList<string> paths) => WithRemoved(paths, displaced: null);

    /// <summary>As <see cref="WithRemoved(IReadOnlyList{string})"/>, with the removed users' states put in <paramref name="displaced"/>.</summary>
    public RouteTable WithRemoved(IReadOnlyList<string> paths, List<UserState>? displaced)
    {
        var next = new Dictionary<string, Route>(_routes, StringComparer.Ordinal);
        for (int i = 0; i < paths.Count; i++)
        {
            if (next.Remove(paths[i], out var removed)) displaced?.Add(removed.State);
        }
        return new RouteTable(next);
    }

    /// <summary>A table holding exactly <paramref name="routes"/> (a state file's users); a repeated path's last entry wins.</summary>
    public static RouteTable From(IReadOnlyList<Route> routes) => Empty.WithAdded(routes);
}
