using System.Text.Json.Serialization;

namespace Mtt.Core.Control.State;

/// <summary>Source-generated JSON for the state file; strict about types, so a damaged file is refused rather than half read.</summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(StateFileDocument))]
[JsonSerializable(typeof(StateFileEntry))]
internal sealed partial class StateFileJsonContext : JsonSerializerContext;
