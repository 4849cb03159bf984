using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mtt.Core.Control.Commands;

/// <summary>
/// Reads <c>args_bunch</c> entry by entry, recording wrong types as faults instead of throwing, so that a
/// refusal can name the entry's index and path. Unknown properties are skipped (a later version adds
/// more), names match case-insensitively and a repeated name's last value wins, as in Go's decoder.
/// </summary>
internal sealed class ArgsBunchConverter : JsonConverter<ArgsBunch>
{
    // Longer than any property name this converter knows; a longer name is simply not one of them.
    private const int MaxKnownNameBytes = 32;

    public override ArgsBunch Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return ArgsBunch.NotAnArray;
        }

        var entries = new List<CommandEntry>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            entries.Add(ReadEntry(ref reader));
        return new ArgsBunch(entries, isArray: true);
    }

    public override void Write(Utf8JsonWriter writer, ArgsBunch value, JsonSerializerOptions options) =>
        throw new NotSupportedException("commands are only read");

    private static CommandEntry ReadEntry(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return CommandEntry.NotAnObject;
        }

        string? path = null, dst = null, name = null;
        FieldFault pathFault = FieldFault.None, dstFault = FieldFault.None, nameFault = FieldFault.None;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool isPath = NameIs(ref reader, "path"u8);
            bool isDst = !isPath && NameIs(ref reader, "dst"u8);
            bool isName = !isPath && !isDst && NameIs(ref reader, "name"u8);
            reader.Read();
            if (isPath) path = ReadString(ref reader, out pathFault);
            else if (isDst) dst = ReadString(ref reader, out dstFault);
            else if (isName) name = ReadString(ref reader, out nameFault);
            else reader.Skip();
        }
        return new CommandEntry(IsObject: true, path, pathFault, dst, dstFault, name, nameFault);
    }

    private static string? ReadString(ref Utf8JsonReader reader, out FieldFault fault)
    {
        fault = FieldFault.None;
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.String:
                try
                {
                    return reader.GetString();
                }
                catch (InvalidOperationException)
                {
                    // Invalid UTF-8, or an escaped lone surrogate: no path could ever match it.
                    fault = FieldFault.InvalidText;
                    return null;
                }
            default:
                reader.Skip();
                fault = FieldFault.NotAString;
                return null;
        }
    }

    private static bool NameIs(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        if (!reader.HasValueSequence && !reader.ValueIsEscaped)
            return Ascii.EqualsIgnoreCase(reader.ValueSpan, name);

        long length = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (length > MaxKnownNameBytes) return false;
        Span<byte> unescaped = stackalloc byte[MaxKnownNameBytes];
        int written = reader.CopyString(unescaped);
        return Ascii.EqualsIgnoreCase(unescaped[..written], name);
    }
}
