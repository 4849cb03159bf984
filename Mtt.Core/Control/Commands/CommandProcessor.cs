using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Mtt.Core.Control.State;
using Mtt.Core.Routing;
using Mtt.Core.Transport;

namespace Mtt.Core.Control.Commands;

/// <summary>
/// Runs one controller command (docs/protocol.md §5.2-5.3) against the route store. Every entry is checked
/// before anything changes, and the change is one swap of the table: a command applies whole or not at all.
/// </summary>
public static class CommandProcessor
{
    public const int OptAdd = 1;
    public const int OptDelete = 2;
    public const int OptReset = 3;
    public const int OptList = 4;
    public const int OptTraffic = 5;
    public const int OptNodes = 6;
    public const int OptPing = 9;

    // A path quoted back in err_string is cut here: enough to recognise it, not a kilobyte echoed back.
    private const int MaxQuotedPathChars = 80;

    /// <summary>Parses and applies <paramref name="json"/>; the only side effect is the table swap on success. Waits for a state file's save (tests, benchmarks).</summary>
    public static ControllerReply Execute(ReadOnlySpan<byte> json, RouteStore routes) => Run(json, routes).Reply;

    internal static CommandOutcome Run(ReadOnlySpan<byte> json, RouteStore routes)
    {
        // The local table answers at once without a state file; with one the save runs on the pool and this waits for it.
        var pending = Dispatch(json, new LocalUserTable(routes));
        return pending.IsCompleted ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>
    /// Parses and checks <paramref name="json"/> (synchronously, so the body's buffer is not held), then hands the
    /// command to <paramref name="table"/>; a command refused by the checks never reaches it.
    /// </summary>
    public static ValueTask<CommandOutcome> Dispatch(ReadOnlySpan<byte> json, IUserTable table)
    {
        if (!TryRead(json, out var command, out string? readError))
            return Done(Refused(0, 0, readError, readError));

        int entryCount = command.ArgsBunch?.Entries.Count ?? 0;
        if (!command.Opt.IsPresent) return Done(Refused(0, entryCount, "opt is missing", "opt is missing"));
        if (!command.Opt.IsInteger)
            return Done(Refused(0, entryCount, "opt must be an integer", "opt must be an integer"));

        int opt = command.Opt.Value;
        return opt switch
        {
            OptAdd => Add(command.ArgsBunch, table),
            OptDelete => Delete(command.ArgsBunch, table),
            OptReset => table.ChangeAsync(new UserChange(OptReset, entryCount, [], [])),
            OptList => table.ListAsync(entryCount),
            OptTraffic => table.TrafficAsync(command.Reset == true, entryCount),
            OptNodes => table.NodesAsync(entryCount),
            OptPing => ValueTask.FromResult(new CommandOutcome(ControllerReply.Pong(table.Current.Count), opt, entryCount, "pong")),
            _ => Done(Refused(opt, entryCount, $"unknown opt {opt}: expected 1 (add), 2 (delete), 3 (reset), 4 (list), 5 (traffic), 6 (nodes) or 9 (ping)", null)),
        };
    }

    /// <summary>Parses a body into a command, its entries not yet checked; on failure <paramref name="error"/> says why.</summary>
    internal static bool TryRead(ReadOnlySpan<byte> json, out ControllerCommand command, [NotNullWhen(false)] out string? error)
    {
        command = null!;
        // RFC 8259 section 8.1 allows ignoring a byte order mark; editors on Windows save users.json with one.
        if (json.StartsWith("\uFEFF"u8)) json = json[3..];
        ReadOnlySpan<byte> trimmed = json.TrimStart(" \t\r\n"u8);
        if (trimmed.IsEmpty) { error = "body is empty: expected a JSON command"; return false; }
        if (trimmed[0] != (byte)'{') { error = "body must be a JSON object"; return false; }
        try
        {
            command = JsonSerializer.Deserialize(json, ControllerJsonContext.Default.ControllerCommand)!;
            error = null;
            return true;
        }
        catch (JsonException ex)
        {
            error = $"malformed JSON: {ex.Message}";
            return false;
        }
        catch (InvalidOperationException)
        {
            error = "malformed JSON: the body is not valid UTF-8";
            return false;
        }
    }

    private static ValueTask<CommandOutcome> Add(ArgsBunch? bunch, IUserTable table)
    {
        if (!TryGetEntries(bunch, OptAdd, out var entries, out string? error)) return Done(Refused(OptAdd, 0, error, error));

        var added = new Route[entries.Count];
        for (int i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            if (!TryGetPath(entry, out string? path, out string? reason))
                return Done(RefusedEntry(OptAdd, entries.Count, i, path, reason));
            if (entry.DstFault != FieldFault.None || entry.Dst is null)
                return Done(RefusedEntry(OptAdd, entries.Count, i, path, FieldReason("dst", entry.DstFault)));
            if (!BackendAddress.TryParse(entry.Dst, out var backend, out reason))
                return Done(RefusedEntry(OptAdd, entries.Count, i, path, reason));
            if (entry.NameFault != FieldFault.None)
                return Done(RefusedEntry(OptAdd, entries.Count, i, path, FieldReason("name", entry.NameFault)));
            // An empty name is no name, as Go's zero value would be.
            string? name = string.IsNullOrEmpty(entry.Name) ? null : entry.Name;
            if (name is not null && NameRules.Check(name) is { } nameReason)
                return Done(RefusedEntry(OptAdd, entries.Count, i, path, nameReason));
            if (!LimitsFromEntry.TryBuild(entry.Limits, out var limits, out reason))
                return Done(RefusedEntry(OptAdd, entries.Count, i, path, reason));
            added[i] = new Route(path, backend, name) { Limits = limits };
        }

        return table.ChangeAsync(new UserChange(OptAdd, entries.Count, added, []));
    }

    /// <summary>
    /// Puts users' limits in force at once, for their open tunnels too (a new rate, a new quota): after a local opt 1
    /// and after an instance applies a change or a snapshot from the shared table.
    /// </summary>
    internal static void ApplyLimits(RouteTable table, IEnumerable<Route> users, TimeProvider time)
    {
        foreach (var route in users)
        {
            // The table's entry: a path given twice has its last one there, with the state it carries.
            if (!table.TryGet(route.Path, out var current)) continue;
            var state = current.State;
            if (!ReferenceEquals(state.Limiter.Applied, current.Limits)) state.Limiter.Apply(current.Limits, state.BytesBothWays, time);
        }
    }

    private static ValueTask<CommandOutcome> Delete(ArgsBunch? bunch, IUserTable table)
    {
        if (!TryGetEntries(bunch, OptDelete, out var entries, out string? error)) return Done(Refused(OptDelete, 0, error, error));

        var removed = new string[entries.Count];
        for (int i = 0; i < entries.Count; i++)
        {
            // dst means nothing to a delete and is not looked at.
            if (!TryGetPath(entries[i], out string? path, out string? reason))
                return Done(RefusedEntry(OptDelete, entries.Count, i, path, reason));
            removed[i] = path;
        }

        return table.ChangeAsync(new UserChange(OptDelete, entries.Count, [], removed));
    }

    /// <summary>Applies a checked change to the in-process table: opt 1, 2 or 3 as docs/protocol.md §5.3 says.</summary>
    internal static CommandOutcome Apply(UserChange change, RouteStore routes) => change.Opt switch
    {
        OptAdd => Change(OptAdd, change.EntryCount, routes, (current, displaced) => current.WithAdded(change.Added, displaced),
            table => ApplyLimits(table, change.Added, routes.Time)),
        OptDelete => Change(OptDelete, change.EntryCount, routes, (current, displaced) => current.WithRemoved(change.Removed, displaced)),
        _ => Change(OptReset, change.EntryCount, routes, static (current, displaced) =>
        {
            foreach (var route in current.Routes) displaced.Add(route.State);
            return RouteTable.Empty;
        }),
    };

    /// <summary>
    /// Publishes the next table (saved first when there is a state file), then revokes the users it dropped
    /// or moved to another dst, which closes their live tunnels; the others are not touched.
    /// </summary>
    private static CommandOutcome Change(int opt, int entryCount, RouteStore routes, Func<RouteTable, List<UserState>, RouteTable> next,
        Action<RouteTable>? published = null)
    {
        var displaced = new List<UserState>();
        RouteTable table;
        try
        {
            table = routes.Update(current =>
            {
                displaced.Clear();
                return next(current, displaced);
            });
        }
        catch (StateFileException e)
        {
            return Refused(opt, entryCount, $"not applied: {e.Message}", null);
        }

        published?.Invoke(table);
        long kicked = 0;
        foreach (var state in displaced)
        {
            kicked += state.ActiveTunnels;
            state.Revoke();
        }
        return Applied(opt, entryCount, table, kicked);
    }

    private static bool TryGetEntries(ArgsBunch? bunch, int opt, out List<CommandEntry> entries, [NotNullWhen(false)] out string? error)
    {
        entries = bunch?.Entries ?? [];
        error = bunch switch
        {
            null => $"args_bunch is missing: opt {opt} needs at least one entry",
            { IsArray: false } => "args_bunch must be an array",
            { Entries.Count: 0 } => $"args_bunch is empty: opt {opt} needs at least one entry",
            _ => null,
        };
        return error is null;
    }

    private static bool TryGetPath(CommandEntry entry, [NotNullWhen(true)] out string? path, [NotNullWhen(false)] out string? reason)
    {
        path = entry.Path;
        if (!entry.IsObject) { reason = "entry must be a JSON object"; return false; }
        if (entry.PathFault != FieldFault.None || path is null) { reason = FieldReason("path", entry.PathFault); return false; }
        reason = PathRules.Check(path);
        return reason is null;
    }

    private static string FieldReason(string field, FieldFault fault) => fault switch
    {
        FieldFault.NotAString => $"{field} must be a string",
        FieldFault.InvalidText => $"{field} is not valid Unicode text",
        _ => $"{field} is missing",
    };

    private static ValueTask<CommandOutcome> Done(CommandOutcome outcome) => ValueTask.FromResult(outcome);

    internal static CommandOutcome Applied(int opt, int entryCount, RouteTable table, long kicked) =>
        new(ControllerReply.Ok, opt, entryCount,
            kicked > 0 ? $"applied, {table.Count} users, {kicked} tunnels of removed users closed" : $"applied, {table.Count} users");

    internal static CommandOutcome Refused(int opt, int entryCount, string errString, string? logReason) =>
        new(ControllerReply.Error(errString), opt, entryCount, $"refused: {logReason ?? errString}");

    // err_string names the entry by index and path, so an operator can find it in a 40,000-line file;
    // the log gets the index only.
    private static CommandOutcome RefusedEntry(int opt, int entryCount, int index, string? path, string reason)
    {
        string where = $"args_bunch[{index}]";
        string errString = path is null ? $"{where}: {reason}" : $"{where} (path \"{Quote(path)}\"): {reason}";
        return Refused(opt, entryCount, errString, $"{where}: {reason}");
    }

    private static string Quote(string path)
    {
        if (path.Length <= MaxQuotedPathChars) return path;
        int cut = char.IsHighSurrogate(path[MaxQuotedPathChars - 1]) ? MaxQuotedPathChars - 1 : MaxQuotedPathChars;
        return string.Concat(path.AsSpan(0, cut), "...");
    }
}
