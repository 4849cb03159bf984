namespace Mtt.Core.Routing;

/// <summary>
/// Holds the current <see cref="RouteTable"/> behind one reference. Readers take the reference and
/// never block; writers are serialised so that no command's change is lost to a racing one.
/// </summary>
public sealed class RouteStore
{
    private readonly Lock _writeLock = new();
    private RouteTable _current = RouteTable.Empty;

    public RouteTable Current => Volatile.Read(ref _current);

    /// <summary>Builds the next table from the current one and publishes it in a single swap.</summary>
    public RouteTable Update(Func<RouteTable, RouteTable> next)
    {
        lock (_writeLock)
        {
            var table = next(_current);
            Volatile.Write(ref _current, table);
            return table;
        }
    }
}
