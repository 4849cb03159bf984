using System.Text;

namespace Mtt.Daemon;

/// <summary>The usage text in the layout of Go's <c>flag.PrintDefaults</c>, which the operators already know.</summary>
internal static class GoUsage
{
    public static string Format(string programName, IReadOnlyList<FlagDeclaration> flags)
    {
        var text = new StringBuilder();
        text.Append("Usage of ").Append(programName).Append(":\n");
        foreach (var flag in flags)
        {
            int start = text.Length;
            text.Append("  -").Append(flag.Name);
            if (flag.TypeWord is not null) text.Append(' ').Append(flag.TypeWord);
            // Go keeps a one-letter boolean's usage on its own line ("  -x\tusage"); everything else goes below.
            text.Append(text.Length - start <= 4 ? "\t" : "\n    \t");
            text.Append(flag.Usage.Replace("\n", "\n    \t", StringComparison.Ordinal));
            if (flag.Default is not null)
            {
                // Go quotes a string default and prints others (a duration) bare.
                text.Append(flag.TypeWord == "string" ? $" (default \"{flag.Default}\")" : $" (default {flag.Default})");
            }
            text.Append('\n');
        }
        return text.ToString();
    }
}
