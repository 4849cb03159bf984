using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Mtt.Core.Diagnostics;

/// <summary>
/// Writes one event as one JSON object (<c>-log-format json</c>): <c>time</c>, <c>level</c>, <c>event</c>, <c>id</c>,
/// <c>message</c>, then each field of the event under its own name (numbers as numbers), and <c>exception</c> when
/// there is one. Used under <see cref="ServerLog"/>'s lock, so its buffers are reused line after line.
/// </summary>
internal sealed class JsonLogLine
{
    // What the generated methods add to their fields: the template, already in "message".
    private const string OriginalFormat = "{OriginalFormat}";

    // Relaxed: a path or a certificate subject stays readable; quotes, backslashes and control characters are still escaped.
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly ArrayBufferWriter<byte> _bytes = new(512);
    private readonly Utf8JsonWriter _writer;
    private char[] _chars = new char[512];

    public JsonLogLine()
    {
        _writer = new Utf8JsonWriter(_bytes, Options);
    }

    /// <summary>Names a field may not take, since the line's own properties have them.</summary>
    public static readonly IReadOnlySet<string> ReservedNames = new HashSet<string>(StringComparer.Ordinal) { "time", "level", "event", "id", "message", "exception" };

    public void Append(StringBuilder line, DateTimeOffset time, string level, EventId eventId, string message,
        IReadOnlyList<KeyValuePair<string, object?>>? fields, Exception? exception)
    {
        _bytes.ResetWrittenCount();
        _writer.Reset(_bytes);
        _writer.WriteStartObject();
        _writer.WriteString("time", time.UtcDateTime);
        _writer.WriteString("level", level);
        if (eventId.Name is { } name) _writer.WriteString("event", name);
        _writer.WriteNumber("id", eventId.Id);
        _writer.WriteString("message", message);
        if (fields is not null)
        {
            for (int i = 0; i < fields.Count; i++)
            {
                var (key, value) = fields[i];
                if (key == OriginalFormat) continue;
                _writer.WritePropertyName(key);
                WriteValue(value);
            }
        }
        if (exception is not null) _writer.WriteString("exception", exception.ToString());
        _writer.WriteEndObject();
        _writer.Flush();

        var bytes = _bytes.WrittenSpan;
        int needed = Encoding.UTF8.GetMaxCharCount(bytes.Length);
        if (_chars.Length < needed) _chars = new char[Math.Max(needed, _chars.Length * 2)];
        int count = Encoding.UTF8.GetChars(bytes, _chars);
        line.Append(_chars, 0, count);
    }

    private void WriteValue(object? value)
    {
        switch (value)
        {
            case null: _writer.WriteNullValue(); break;
            case string text: _writer.WriteStringValue(text); break;
            case bool flag: _writer.WriteBooleanValue(flag); break;
            case int number: _writer.WriteNumberValue(number); break;
            case long number: _writer.WriteNumberValue(number); break;
            case ushort number: _writer.WriteNumberValue(number); break;
            case uint number: _writer.WriteNumberValue(number); break;
            case ulong number: _writer.WriteNumberValue(number); break;
            case double number when double.IsFinite(number): _writer.WriteNumberValue(number); break;
            case DateTime instant: _writer.WriteStringValue(instant); break;
            case DateTimeOffset instant: _writer.WriteStringValue(instant); break;
            case IFormattable formattable: _writer.WriteStringValue(formattable.ToString(null, CultureInfo.InvariantCulture)); break;
            default: _writer.WriteStringValue(value.ToString()); break;
        }
    }
}
