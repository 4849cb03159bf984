using System.Text;

namespace Mtt.Core.Control.State;

/// <summary>What the controller accepts as a user's name: text that is safe on one log line and as a Prometheus label value.</summary>
internal static class NameRules
{
    // An account id or an e-mail address fits; a label value this long is already unwieldy in a dashboard.
    public const int MaxLength = 128;

    /// <summary>Why <paramref name="name"/> cannot be a user's name, or null when it can.</summary>
    public static string? Check(string name)
    {
        if (name.Length > MaxLength) return $"name is longer than {MaxLength} characters";
        foreach (Rune rune in name.EnumerateRunes())
        {
            // Control characters (newlines among them) would split a log line; quotes and backslashes would
            // need escaping in every consumer of a label value.
            if (Rune.IsControl(rune) || rune.Value is '"' or '\\' || rune.Value == Rune.ReplacementChar.Value)
                return "name must be printable text without quotes or backslashes";
        }
        return null;
    }
}
