using System.Text.Json;
using Mtt.Core.Routing;
using Mtt.Core.Transport;

namespace Mtt.Core.Control.State;

/// <summary>
/// One user as the state file writes it (<c>{"path":..,"dst":..,"name":..}</c>), alone: the record a shared
/// table (Redis) stores per user, so a field added to the state file's entry travels through it unchanged.
/// Parsing applies the state file's rules: an entry the controller would refuse is refused here too.
/// </summary>
public static class UserRecordJson
{
    private static readonly JsonSerializerOptions Compact = new(StateFileJsonContext.Default.Options) { WriteIndented = false };
    private static readonly StateFileJsonContext CompactContext = new(Compact);

    /// <summary>The user's record as compact JSON (one line: no raw line feed, which the change messages rely on).</summary>
    public static string Serialize(Route route) =>
        JsonSerializer.Serialize(UserStateFile.ToEntry(route), CompactContext.StateFileEntry);

    /// <summary>Parses one record; on failure <paramref name="reason"/> says why and nothing is returned.</summary>
    public static bool TryParse(string json, out Route route, out string? reason)
    {
        route = null!;
        StateFileEntry? entry;
        try
        {
            entry = JsonSerializer.Deserialize(json, CompactContext.StateFileEntry);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException)
        {
            reason = $"not a user record: {e.Message}";
            return false;
        }
        if (entry is null) { reason = "not a user record: null"; return false; }
        reason = UserStateFile.TryFromEntry(entry, out route);
        return reason is null;
    }
}
