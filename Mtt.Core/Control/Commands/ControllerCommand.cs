using System.Text.Json.Serialization;

namespace Mtt.Core.Control.Commands;

/// <summary>
/// A command as it arrived. Wrong JSON types are kept as faults rather than thrown, so that the
/// refusal can name the field, the entry's index and its path.
/// </summary>
internal sealed class ControllerCommand
{
    [JsonPropertyName("opt")]
    public OptValue Opt { get; set; }

    /// <summary>Null when absent or JSON null.</summary>
    [JsonPropertyName("args_bunch")]
    public ArgsBunch? ArgsBunch { get; set; }

    /// <summary>opt 5: zero the traffic counters in the same step as reading them.</summary>
    [JsonPropertyName("reset")]
    public bool? Reset { get; set; }
}
