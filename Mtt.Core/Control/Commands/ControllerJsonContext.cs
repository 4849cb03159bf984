using System.Text.Json.Serialization;

namespace Mtt.Core.Control.Commands;

/// <summary>
/// Source-generated (reflection-free) JSON metadata for the controller's command and reply. Property names
/// match case-insensitively and unknown properties are skipped, as the original Go server's decoder did.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNameCaseInsensitive = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ControllerCommand))]
[JsonSerializable(typeof(ControllerReply))]
[JsonSerializable(typeof(NodeReport))]
internal sealed partial class ControllerJsonContext : JsonSerializerContext;
