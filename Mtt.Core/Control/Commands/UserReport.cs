using System.Text.Json.Serialization;

namespace Mtt.Core.Control.Commands;

/// <summary>One user in the answer to opt 4: who it is, where it goes, and its counters since it was added.</summary>
public sealed class UserReport
{
    [JsonPropertyName("path")]
    public required string Path { get; init; }

    [JsonPropertyName("dst")]
    public required string Dst { get; init; }

    [JsonPropertyName("name")]
    public string? Name { get; init; }

    [JsonPropertyName("active_tunnels")]
    public long ActiveTunnels { get; init; }

    [JsonPropertyName("active_streams")]
    public long ActiveStreams { get; init; }

    [JsonPropertyName("total_tunnels")]
    public long TotalTunnels { get; init; }

    [JsonPropertyName("total_streams")]
    public long TotalStreams { get; init; }

    [JsonPropertyName("bytes_from_client")]
    public long BytesFromClient { get; init; }

    [JsonPropertyName("bytes_to_client")]
    public long BytesToClient { get; init; }

    /// <summary>UTC, RFC 3339; absent when no tunnel ever opened.</summary>
    [JsonPropertyName("last_activity")]
    public DateTime? LastActivity { get; init; }

    // The limits as opt 1 set them, each absent when not set, and what is left of them.

    [JsonPropertyName("max_conns")]
    public int? MaxConns { get; set; }

    [JsonPropertyName("max_ips")]
    public int? MaxIps { get; set; }

    [JsonPropertyName("rate")]
    public long? Rate { get; set; }

    [JsonPropertyName("quota")]
    public long? Quota { get; set; }

    /// <summary>Bytes (both ways) left of the quota; 0 once it is spent.</summary>
    [JsonPropertyName("quota_left")]
    public long? QuotaLeft { get; set; }

    [JsonPropertyName("expires")]
    public DateTimeOffset? Expires { get; set; }

    /// <summary>Set with <see cref="Expires"/>: whether that time has come (the user is listed, and refused with 403).</summary>
    [JsonPropertyName("expired")]
    public bool? Expired { get; set; }
}
