using System.Text.Json.Serialization;

namespace Mtt.Core.Control.Commands;

/// <summary>One instance in the answer to opt 6, as its heartbeat in the shared table last said it.</summary>
public sealed class NodeReport
{
    /// <summary>Host name, process id and a random suffix: new at every start.</summary>
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    /// <summary>The instance's tunnel listener.</summary>
    [JsonPropertyName("address")]
    public required string Address { get; init; }

    [JsonPropertyName("tunnels")]
    public long Tunnels { get; init; }

    /// <summary>The table version the instance serves.</summary>
    [JsonPropertyName("version")]
    public long Version { get; init; }

    [JsonPropertyName("started")]
    public DateTime Started { get; init; }

    [JsonPropertyName("seen")]
    public DateTime Seen { get; init; }
}
