using System.Text.Json.Serialization;

namespace Mtt.Core.Control.State;

/// <summary>One user in the state file: what opt 1 was given, and of the counters only how much of its quota is spent.</summary>
internal sealed class StateFileEntry
{
    [JsonPropertyName("path")]
    public string? Path { get; set; }

    [JsonPropertyName("dst")]
    public string? Dst { get; set; }

    [JsonPropertyName("name")]
    public string? Name { get; set; }

    [JsonPropertyName("max_conns")]
    public long? MaxConns { get; set; }

    [JsonPropertyName("max_ips")]
    public long? MaxIps { get; set; }

    [JsonPropertyName("rate")]
    public long? Rate { get; set; }

    [JsonPropertyName("quota")]
    public long? Quota { get; set; }

    /// <summary>Bytes of the quota spent when the file was written, so that a restart refills nobody.</summary>
    [JsonPropertyName("quota_used")]
    public long? QuotaUsed { get; set; }

    /// <summary>RFC 3339.</summary>
    [JsonPropertyName("expires")]
    public string? Expires { get; set; }
}
