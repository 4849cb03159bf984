using System.Text.Json.Serialization;

namespace Mtt.Core.Control.State;

/// <summary>The state file: <c>{"version":1,"users":[{"path":"/p","dst":"host:port","name":"n"}, ...]}</c>.</summary>
internal sealed class StateFileDocument
{
    public const int CurrentVersion = 1;

    [JsonPropertyName("version")]
    public int Version { get; set; }

    [JsonPropertyName("users")]
    public List<StateFileEntry>? Users { get; set; }
}
