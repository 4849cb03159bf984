using System.Reflection;
using CommandLine;

namespace Mtt.Daemon;

/// <summary>One flag as <see cref="ServerFlags"/> declares it, in the terms Go's <c>flag</c> package uses.</summary>
/// <param name="TypeWord">What usage shows after the name ("string", "duration"); null for a boolean.</param>
/// <param name="Default">The default as text; null when it is the type's zero value, which usage does not show.</param>
/// <param name="IsShortName">Declared to the library as a one-letter short name (it refuses one-letter long names).</param>
internal sealed record FlagDeclaration(string Name, bool IsShortName, bool IsBool, string? TypeWord, string Usage, string? Default)
{
    /// <summary>Every flag of the server, sorted by name as Go's usage lists them.</summary>
    public static IReadOnlyList<FlagDeclaration> All { get; } = ReadDeclarations();

    // The attributes on ServerFlags are the single source: CommandLineParser binds by them, and the Go-style
    // parsing and usage text are derived from them, so a new flag is declared in one place.
    private static FlagDeclaration[] ReadDeclarations()
    {
        var flags = new List<FlagDeclaration>();
        foreach (var property in typeof(ServerFlags).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var option = property.GetCustomAttribute<OptionAttribute>();
            if (option is null) continue;
            bool isBool = property.PropertyType == typeof(bool);
            string? defaultText = option.Default is string text && text.Length > 0 ? text : null;
            bool isShort = string.IsNullOrEmpty(option.LongName);
            string name = isShort ? option.ShortName : option.LongName;
            flags.Add(new FlagDeclaration(name, isShort, isBool, isBool ? null : option.MetaValue, option.HelpText, defaultText));
        }
        flags.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return flags.ToArray();
    }
}
