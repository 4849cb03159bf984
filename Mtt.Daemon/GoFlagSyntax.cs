namespace Mtt.Daemon;

/// <summary>
/// Reads argv with the rules of Go's <c>flag</c> package and rewrites it into forms CommandLineParser reads
/// without surprises: each flag once, a true boolean as a bare switch, a false one left out, a value in the
/// form the library cannot misread (see <see cref="TryRewriteValue"/>).
/// </summary>
/// <remarks>
/// Why not hand argv to CommandLineParser as it is: the library is GNU-style, and Go's rules differ where the
/// operators' command lines depend on them.
/// <list type="bullet">
/// <item><c>-mux</c>: GNU reads a multi-letter name after one dash as bundled short options (-m -u -x).</item>
/// <item><c>-mux=false</c>: a GNU switch takes no value; Go's boolean takes an optional <c>=value</c> and never the next argument.</item>
/// <item><c>-b -x</c>: Go takes the next argument as the value whatever it looks like; GNU sees another option.</item>
/// <item>A repeated flag: Go keeps the last; the library reports a repeated option.</item>
/// <item><c>-h</c>, <c>-help</c>: help in Go; the library has its own help handling, which is switched off.</item>
/// </list>
/// The library still owns the declarations (<see cref="ServerFlags"/>) and the binding of values to them.
/// </remarks>
internal static class GoFlagSyntax
{
    /// <summary>What argv said: the rewritten arguments, or help, or the first error in Go's wording.</summary>
    internal readonly record struct Outcome(IReadOnlyList<string>? Arguments, bool HelpRequested, string? Error);

    public static Outcome Normalise(IReadOnlyList<string> args, IReadOnlyList<FlagDeclaration> declarations)
    {
        // Go's flag: the last occurrence wins; insertion order is kept only to make the output predictable.
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        var order = new List<string>();
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

            if (!values.ContainsKey(name)) order.Add(name);
            values[name] = value;
        }

        if (i < args.Count)
            return Fail($"unexpected argument {MessageText.Quote(args[i])}: the server takes flags only");

        var rewritten = new List<string>(order.Count * 2);
        foreach (string name in order)
        {
            var flag = Find(declarations, name)!;
            string value = values[name]!;
            if (flag.IsBool)
            {
                if (value == "true") rewritten.Add(flag.IsShortName ? "-" + name : "--" + name);
            }
            else if (!TryRewriteValue(flag, value, rewritten))
            {
                return Fail($"invalid value {MessageText.Quote(value)} for flag -{name}: a value that starts with '-' cannot hold a line break");
            }
        }
        return new Outcome(rewritten, HelpRequested: false, null);
    }

    // The library's tokenizer reads a separate argument that starts with '-' as an option, and refuses
    // "--name=" followed by nothing, by a space or by a line break. Tried one by one, these forms carry every value
    // but one: a long flag's value that starts with '-' and holds a line break, which no path, address or duration does.
    private static bool TryRewriteValue(FlagDeclaration flag, string value, List<string> rewritten)
    {
        if (flag.IsShortName)
        {
            // "-bVALUE": the rest of the argument is the value, whatever it starts with.
            if (value.Length == 0) { rewritten.Add("-" + flag.Name); rewritten.Add(""); }
            else rewritten.Add("-" + flag.Name + value);
            return true;
        }
        if (value.StartsWith('-'))
        {
            if (value.AsSpan().IndexOfAny('\r', '\n') >= 0) return false;
            rewritten.Add($"--{flag.Name}={value}");
            return true;
        }
        rewritten.Add("--" + flag.Name);
        rewritten.Add(value);
        return true;
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
