using System.Text.Json.Serialization;

namespace Mtt.Core.Control.Commands;

/// <summary>The <c>args_bunch</c> field: the entries in order, or a mark that it was not an array.</summary>
[JsonConverter(typeof(ArgsBunchConverter))]
internal sealed class ArgsBunch(List<CommandEntry> entries, bool isArray)
{
    public static ArgsBunch NotAnArray { get; } = new([], isArray: false);

    public List<CommandEntry> Entries { get; } = entries;

    public bool IsArray { get; } = isArray;
}
