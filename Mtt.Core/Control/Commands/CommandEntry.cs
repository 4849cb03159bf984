namespace Mtt.Core.Control.Commands;

/// <summary>One element of <c>args_bunch</c> as it arrived; null fields were absent or JSON null.</summary>
internal readonly record struct CommandEntry(
    bool IsObject, string? Path, FieldFault PathFault, string? Dst, FieldFault DstFault, string? Name = null, FieldFault NameFault = FieldFault.None,
    RawLimitFields Limits = default)
{
    public static CommandEntry NotAnObject => default;
}
