using System.Globalization;
using System.Text;

namespace Mtt.Daemon;

/// <summary>Puts operator-supplied text into a one-line message: control characters escaped, as Go's <c>%q</c> does.</summary>
internal static class MessageText
{
    /// <summary>The text in double quotes with backslash, quote and control characters escaped: <c>"a\nb"</c>.</summary>
    public static string Quote(string text) => "\"" + Escape(text, escapeQuote: true) + "\"";

    /// <summary>The text with control characters escaped, so a message stays on one line.</summary>
    public static string Escape(string text) => Escape(text, escapeQuote: false);

    private static string Escape(string text, bool escapeQuote)
    {
        var escaped = new StringBuilder(text.Length + 2);
        foreach (char c in text)
        {
            switch (c)
            {
                case '\n': escaped.Append("\\n"); break;
                case '\r': escaped.Append("\\r"); break;
                case '\t': escaped.Append("\\t"); break;
                case '\\' when escapeQuote: escaped.Append("\\\\"); break;
                case '"' when escapeQuote: escaped.Append("\\\""); break;
                default:
                    if (char.IsControl(c)) escaped.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else escaped.Append(c);
                    break;
            }
        }
        return escaped.ToString();
    }
}
