using System.Text.Json.Serialization;

namespace Mtt.Core.Control.Commands;

/// <summary>One user in the answer to opt 5: bytes each way since the last reset (or since it was added).</summary>
public sealed class TrafficReport
{
    [JsonPropertyName("path")]
    public required string Path { get; init; }

    [JsonPropertyName("name")]
    public string? Name { get; init; }

    [JsonPropertyName("bytes_from_client")]
    public long BytesFromClient { get; init; }

    [JsonPropertyName("bytes_to_client")]
    public long BytesToClient { get; init; }
}
