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
        var limits = new RawLimitFields();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool isPath = NameIs(ref reader, "path"u8);
            bool isDst = !isPath && NameIs(ref reader, "dst"u8);
            bool isName = !isPath && !isDst && NameIs(ref reader, "name"u8);
            int limit = isPath || isDst || isName ? 0 : LimitFieldOf(ref reader);
            reader.Read();
            if (isPath) path = ReadString(ref reader, out pathFault);
            else if (isDst) dst = ReadString(ref reader, out dstFault);
            else if (isName) name = ReadString(ref reader, out nameFault);
            else if (limit != 0) ReadLimit(ref reader, limit, ref limits);
            else reader.Skip();
        }
        return new CommandEntry(IsObject: true, path, pathFault, dst, dstFault, name, nameFault, limits);
    }

    // 1 max_conns, 2 max_ips, 3 rate, 4 quota, 5 expires; 0 for any other name.
    private static int LimitFieldOf(ref Utf8JsonReader reader) =>
        NameIs(ref reader, "max_conns"u8) ? 1 : NameIs(ref reader, "max_ips"u8) ? 2 : NameIs(ref reader, "rate"u8) ? 3
        : NameIs(ref reader, "quota"u8) ? 4 : NameIs(ref reader, "expires"u8) ? 5 : 0;

    /// <summary>A limit's value as it came: a number (null when not one, or out of decimal's range), or the expiry's text.</summary>
    private static void ReadLimit(ref Utf8JsonReader reader, int field, ref RawLimitFields limits)
    {
        if (reader.TokenType == JsonTokenType.Null) return;
        if (field == 5)
        {
            limits.HasExpires = true;
            limits.Expires = ReadString(ref reader, out _);
            return;
        }
        decimal? number = reader.TokenType == JsonTokenType.Number && reader.TryGetDecimal(out decimal d) ? d : null;
        reader.Skip();
        switch (field)
        {
            case 1: limits.HasMaxConns = true; limits.MaxConns = number; break;
            case 2: limits.HasMaxIps = true; limits.MaxIps = number; break;
            case 3: limits.HasRate = true; limits.Rate = number; break;
            default: limits.HasQuota = true; limits.Quota = number; break;
        }
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
