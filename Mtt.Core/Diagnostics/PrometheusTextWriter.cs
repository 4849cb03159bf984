using System.Globalization;
using System.Text;

namespace Mtt.Core.Diagnostics;

/// <summary>
/// Writes the Prometheus text exposition format, version 0.0.4 (prometheus.io/docs/instrumenting/exposition_formats):
/// <c># HELP</c> and <c># TYPE</c> lines, then one <c>name{label="value"} number</c> line per sample.
/// </summary>
/// <remarks>
/// Written by hand rather than with prometheus-net: that library brings its own registry, meters and HTTP
/// listener, where this server already has lock-free counters of its own and must answer on the controller's
/// listener; the part of the format used here is a few escaping rules, which the tests pin down.
/// </remarks>
internal sealed class PrometheusTextWriter
{
    /// <summary>The Content-Type a scraper expects for this format.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly StringBuilder _text = new();

    /// <summary>Starts a metric family; <paramref name="type"/> is "counter" or "gauge".</summary>
    public void Family(string name, string type, string help)
    {
        CheckName(name);
        _text.Append("# HELP ").Append(name).Append(' ');
        foreach (char c in help)
        {
            // HELP text escapes only backslash and line feed.
            if (c == '\\') _text.Append("\\\\");
            else if (c == '\n') _text.Append("\\n");
            else _text.Append(c);
        }
        _text.Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    public void Sample(string name, double value) => Sample(name, [], value);

    public void Sample(string name, string labelName, string labelValue, double value) => Sample(name, [(labelName, labelValue)], value);

    public void Sample(string name, ReadOnlySpan<(string Name, string Value)> labels, double value)
    {
        CheckName(name);
        _text.Append(name);
        if (!labels.IsEmpty)
        {
            _text.Append('{');
            for (int i = 0; i < labels.Length; i++)
            {
                CheckName(labels[i].Name);
                if (i > 0) _text.Append(',');
                _text.Append(labels[i].Name).Append("=\"");
                AppendLabelValue(labels[i].Value);
                _text.Append('"');
            }
            _text.Append('}');
        }
        _text.Append(' ').Append(FormatValue(value)).Append('\n');
    }

    public override string ToString() => _text.ToString();

    public byte[] ToUtf8() => Encoding.UTF8.GetBytes(_text.ToString());

    // Label values escape backslash, double quote and line feed; anything else, any UTF-8, is taken as it is.
    private void AppendLabelValue(string value)
    {
        foreach (char c in value)
        {
            switch (c)
            {
                case '\\': _text.Append("\\\\"); break;
                case '"': _text.Append("\\\""); break;
                case '\n': _text.Append("\\n"); break;
                default: _text.Append(c); break;
            }
        }
    }

    // Integers as integers (counters of bytes pass 2^53 only after petabytes); the rest as Go's ParseFloat reads them.
    private static string FormatValue(double value)
    {
        if (double.IsPositiveInfinity(value)) return "+Inf";
        if (double.IsNegativeInfinity(value)) return "-Inf";
        if (double.IsNaN(value)) return "NaN";
        if (value == Math.Floor(value) && Math.Abs(value) < 1e15) return ((long)value).ToString(CultureInfo.InvariantCulture);
        return value.ToString("R", CultureInfo.InvariantCulture);
    }

    // Metric and label names: [a-zA-Z_:][a-zA-Z0-9_:]* (colons are for recording rules, but legal).
    private static void CheckName(string name)
    {
        bool valid = name.Length > 0 && !char.IsAsciiDigit(name[0]);
        foreach (char c in name) valid &= char.IsAsciiLetterOrDigit(c) || c is '_' or ':';
        if (!valid) throw new ArgumentException($"not a valid Prometheus name: {name}", nameof(name));
    }
}
