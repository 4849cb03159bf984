using System.Text.Json;
using Mtt.Core.Routing;
using Mtt.Core.Transport;

namespace Mtt.Core.Control.State;

/// <summary>
/// <c>-state FILE</c>: the user table on disk, so users survive a restart. Saved after every change, before
/// the change is published: written to a temporary file beside it, flushed to the disk, then renamed over
/// the old one, so a crash at any moment leaves either the old table or the new one, never a torn file.
/// A file that cannot be read or parsed stops the start: starting with no users would silently cut
/// every client off.
/// </summary>
public sealed class UserStateFile
{
    public UserStateFile(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
    }

    public string Path { get; }

    private string TemporaryPath => Path + ".tmp";

    /// <summary>The saved users; an empty table when the file does not exist yet (a first start).</summary>
    /// <exception cref="StateFileException">unreadable, not JSON, or an entry the controller would refuse.</exception>
    public RouteTable Load(out bool existed)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(Path);
        }
        catch (FileNotFoundException)
        {
            existed = false;
            return RouteTable.Empty;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StateFileException($"cannot read the state file {Path}: {e.Message}", e);
        }
        existed = true;

        StateFileDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(bytes, StateFileJsonContext.Default.StateFileDocument);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException)
        {
            throw new StateFileException($"the state file {Path} is corrupt: {e.Message}", e);
        }
        if (document is null || document.Users is null)
            throw Corrupt("it has no \"users\" array");
        if (document.Version != StateFileDocument.CurrentVersion)
            throw Corrupt($"version {document.Version} is not {StateFileDocument.CurrentVersion}");

        var routes = new Route[document.Users.Count];
        var paths = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < routes.Length; i++)
        {
            var entry = document.Users[i];
            if (entry?.Path is null) throw Corrupt($"users[{i}] has no path");
            if (TryFromEntry(entry, out routes[i]) is { } reason) throw Corrupt($"users[{i}]: {reason}");
            if (!paths.Add(entry.Path)) throw Corrupt($"users[{i}]: the path is listed twice");
        }
        return RouteTable.From(routes);
    }

    /// <summary>Writes <paramref name="table"/> durably; on failure the old file is left as it was.</summary>
    /// <exception cref="StateFileException">the file could not be written.</exception>
    public void Save(RouteTable table)
    {
        var users = new List<StateFileEntry>(table.Count);
        foreach (var route in table.Routes)
            users.Add(ToEntry(route));
        users.Sort(static (a, b) => string.CompareOrdinal(a.Path, b.Path));
        var document = new StateFileDocument { Version = StateFileDocument.CurrentVersion, Users = users };

        try
        {
            using (var stream = new FileStream(TemporaryPath, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                JsonSerializer.Serialize(stream, document, StateFileJsonContext.Default.StateFileDocument);
                // fsync: the bytes are on the disk before the rename makes them the state.
                stream.Flush(flushToDisk: true);
            }
            // rename(2) replaces the old file atomically.
            File.Move(TemporaryPath, Path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StateFileException($"cannot save the state file {Path}: {e.Message}", e);
        }
    }

    /// <summary>A user as the file writes it; the one place that maps a user's fields to the file's.</summary>
    internal static StateFileEntry ToEntry(Route route)
    {
        var entry = new StateFileEntry { Path = route.Path, Dst = route.Backend.ToString(), Name = route.Name };
        StateFileLimits.Write(route, entry);
        return entry;
    }

    /// <summary>The user an entry describes, checked as the controller checks opt 1; null, or the reason it is refused.</summary>
    internal static string? TryFromEntry(StateFileEntry entry, out Route route)
    {
        route = null!;
        if (entry.Path is not { } path) return "no path";
        if (PathRules.Check(path) is { } pathReason) return pathReason;
        if (!BackendAddress.TryParse(entry.Dst, out var backend, out string? dstReason)) return dstReason;
        string? name = string.IsNullOrEmpty(entry.Name) ? null : entry.Name;
        if (name is not null && NameRules.Check(name) is { } nameReason) return nameReason;
        if (!StateFileLimits.TryRead(entry, out var limits, out string? limitReason)) return limitReason;
        route = new Route(path, backend, name) { Limits = limits };
        // The quota spent before the file was written (or the entry published) counts on.
        if (entry.QuotaUsed is { } used) route.State.Limiter.CarryQuotaUsed(used);
        return null;
    }

    private StateFileException Corrupt(string reason) => new($"the state file {Path} is corrupt: {reason}");
}
