namespace Mtt.Daemon;

/// <summary>
/// Reads argv with the rules of Go's <c>flag</c> package: each flag's last value by name, a boolean as
/// <c>"true"</c> or <c>"false"</c>. <see cref="CommandLine"/> binds the values to <see cref="ServerFlags"/>.
/// </summary>
/// <remarks>
/// Go's rules, which the operators' command lines depend on and GNU-style parsers get wrong:
/// <list type="bullet">
/// <item><c>-mux</c>: one dash and a multi-letter name is one flag, not bundled short options (-m -u -x).</item>
/// <item><c>-mux=false</c>: a boolean takes an optional <c>=value</c> and never the next argument.</item>
/// <item><c>-b -x</c>: the next argument is the value whatever it looks like.</item>
/// <item>A repeated flag: the last one wins.</item>
/// <item><c>-h</c>, <c>-help</c>: help.</item>
/// </list>
/// </remarks>
internal static class GoFlagSyntax
{
    /// <summary>What argv said: each given flag's value by name, or help, or the first error in Go's wording.</summary>
    internal readonly record struct Outcome(IReadOnlyDictionary<string, string>? Values, bool HelpRequested, string? Error);

    public static Outcome Normalise(IReadOnlyList<string> args, IReadOnlyList<FlagDeclaration> declarations)
    {
        // Go's flag: the last occurrence wins.
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        int i = 0;
        while (i < args.Count)
        {
            string arg = args[i];
            // "-" alone or anything without a leading dash ends the flags, as in Go; what follows is positional.
            if (arg.Length < 2 || arg[0] != '-') break;
            int dashes = arg[1] == '-' ? 2 : 1;
            if (dashes == 2 && arg.Length == 2) { i++; break; } // "--" ends the flags and is consumed

            string name = arg.Substring(dashes);
            if (name.Length == 0 || name[0] is '-' or '=') return Fail($"bad flag syntax: {MessageText.Escape(arg)}");
            i++;

            string? value = null;
            int equals = name.IndexOf('=', 1);
            if (equals > 0)
            {
                value = name.Substring(equals + 1);
                name = name.Substring(0, equals);
            }

            var flag = Find(declarations, name);
            if (flag is null)
            {
                if (name is "h" or "help") return new Outcome(null, HelpRequested: true, null);
                return Fail($"flag provided but not defined: -{MessageText.Escape(name)}");
            }

            if (flag.IsBool)
            {
                // A boolean never takes the next argument: "-mux false" is -mux then a positional "false".
                if (value is null) value = "true";
                else if (!TryParseGoBool(value, out bool parsed)) return Fail($"invalid boolean value {MessageText.Quote(value)} for -{name}: parse error");
                else value = parsed ? "true" : "false";
            }
            else if (value is null)
            {
                if (i >= args.Count) return Fail($"flag needs an argument: -{name}");
                value = args[i++];
            }

            values[name] = value;
        }

        if (i < args.Count)
            return Fail($"unexpected argument {MessageText.Quote(args[i])}: the server takes flags only");

        return new Outcome(values, HelpRequested: false, null);
    }

    // strconv.ParseBool's spellings, which Go's boolean flags accept.
    private static bool TryParseGoBool(string text, out bool value)
    {
        switch (text)
        {
            case "1" or "t" or "T" or "TRUE" or "true" or "True": value = true; return true;
            case "0" or "f" or "F" or "FALSE" or "false" or "False": value = false; return true;
            default: value = false; return false;
        }
    }

    private static FlagDeclaration? Find(IReadOnlyList<FlagDeclaration> declarations, string name)
    {
        foreach (var flag in declarations) if (flag.Name == name) return flag;
        return null;
    }

    private static Outcome Fail(string message) => new(null, HelpRequested: false, message);
}
