using System.Text;

namespace Mtt.Core.Diagnostics;

/// <summary>
/// The Prometheus name of an instrument: dots and other characters Prometheus does not allow become <c>_</c>; a unit
/// of bytes or seconds adds <c>_bytes</c> or <c>_seconds</c> unless the name already has that word; a counter ends in
/// <c>_total</c>. Close to what OpenTelemetry's Prometheus exporters do, and it keeps the names this server's
/// /metrics had before the meter (<c>mtt.bytes.from_client</c>, a counter in <c>By</c>, is
/// <c>mtt_bytes_from_client_total</c>; <c>mtt.user.last_activity</c>, a gauge in <c>s</c>, is
/// <c>mtt_user_last_activity_seconds</c>). Annotation units (<c>{tunnel}</c>) add nothing.
/// </summary>
internal static class PrometheusName
{
    public static string For(string instrumentName, string? unit, bool counter)
    {
        string name = Sanitize(instrumentName);
        string? unitWord = unit switch
        {
            "By" => "bytes",
            "s" => "seconds",
            _ => null,
        };
        if (unitWord is not null && Array.IndexOf(name.Split('_'), unitWord) < 0) name += "_" + unitWord;
        if (counter && !name.EndsWith("_total", StringComparison.Ordinal)) name += "_total";
        return name;
    }

    /// <summary>A metric or label name: <c>[a-zA-Z_:][a-zA-Z0-9_:]*</c>, each other character replaced by <c>_</c>.</summary>
    public static string Sanitize(string name) => Sanitize(name, allowColon: true);

    /// <summary>A label name (a tag's key, as <c>gc.heap.generation</c>): <c>[a-zA-Z_][a-zA-Z0-9_]*</c>.</summary>
    public static string Label(string key) => Sanitize(key, allowColon: false);

    private static string Sanitize(string name, bool allowColon)
    {
        var text = new StringBuilder(name.Length + 1);
        if (name.Length == 0 || char.IsAsciiDigit(name[0])) text.Append('_');
        foreach (char c in name) text.Append(char.IsAsciiLetterOrDigit(c) || c == '_' || (allowColon && c == ':') ? c : '_');
        return text.ToString();
    }
}
