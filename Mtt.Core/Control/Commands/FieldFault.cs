namespace Mtt.Core.Control.Commands;

/// <summary>What was wrong with a string field of an <c>args_bunch</c> entry, beyond its content.</summary>
internal enum FieldFault : byte
{
    None,
    NotAString,
    InvalidText,
}
