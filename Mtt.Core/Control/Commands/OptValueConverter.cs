using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mtt.Core.Control.Commands;

/// <summary>Reads <c>opt</c> without throwing on a wrong type, so the refusal can say what was wrong.</summary>
internal sealed class OptValueConverter : JsonConverter<OptValue>
{
    public override OptValue Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return OptValue.Absent;
            case JsonTokenType.Number when reader.TryGetInt32(out int value):
                return OptValue.Of(value);
            default:
                reader.Skip();
                return OptValue.NotAnInteger;
        }
    }

    public override void Write(Utf8JsonWriter writer, OptValue value, JsonSerializerOptions options) =>
        throw new NotSupportedException("commands are only read");
}
