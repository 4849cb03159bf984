namespace Mtt.Core.Routing;

/// <summary>
/// Holds the current <see cref="RouteTable"/> behind one reference. Readers take the reference and
/// never block; writers are serialised so that no command's change is lost to a racing one.
/// </summary>
public sealed class RouteStore
{
    private readonly Lock _writeLock = new();
    private readonly Action<RouteTable>? _persist;
    private RouteTable _current;

    public RouteStore()
        : this(RouteTable.Empty, persist: null)
    {
    }

    /// <param name="initial">The users to start with (loaded from a state file).</param>
    /// <param name="persist">
    /// Called with each next table before it is published, under the write lock, so saves happen in the
    /// order of the changes; when it throws, the change is not published and the exception reaches the caller.
    /// </param>
    public RouteStore(RouteTable initial, Action<RouteTable>? persist)
    {
        _current = initial;
        _persist = persist;
    }

    public RouteTable Current => Volatile.Read(ref _current);

    /// <summary>Whether each change is saved (a state file) before it is published: an <see cref="Update"/> may then wait for a disk.</summary>
    public bool Persists => _persist is not null;

    /// <summary>The clock users' limits run on (expiry, rate): the tunnel listener's, so that tests can drive both with one fake clock.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Saves the current table once more (at shutdown: what users' quotas have spent since the last change).</summary>
    public void SaveNow()
    {
        lock (_writeLock) _persist?.Invoke(_current);
    }

    /// <summary>Builds the next table from the current one and publishes it in a single swap.</summary>
    public RouteTable Update(Func<RouteTable, RouteTable> next)
    {
        lock (_writeLock)
        {
            var table = next(_current);
            _persist?.Invoke(table);
            Volatile.Write(ref _current, table);
            return table;
        }
    }
}
