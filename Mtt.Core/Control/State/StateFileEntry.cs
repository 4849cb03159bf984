using System.Text.Json.Serialization;

namespace Mtt.Core.Control.State;

/// <summary>One user in the state file: what opt 1 was given, no counters.</summary>
internal sealed class StateFileEntry
{
    [JsonPropertyName("path")]
    public string? Path { get; set; }

    [JsonPropertyName("dst")]
    public string? Dst { get; set; }

    [JsonPropertyName("name")]
    public string? Name { get; set; }
}
