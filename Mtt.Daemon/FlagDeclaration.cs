using System.Reflection;
using CommandLine;

namespace Mtt.Daemon;

/// <summary>One flag as <see cref="ServerFlags"/> declares it, in the terms Go's <c>flag</c> package uses.</summary>
/// <param name="TypeWord">What usage shows after the name ("string", "duration"); null for a boolean.</param>
/// <param name="Default">The default as text; null when it is the type's zero value, which usage does not show.</param>
/// <param name="IsShortName">Declared to the library as a one-letter short name (it refuses one-letter long names).</param>
internal sealed record FlagDeclaration(string Name, bool IsShortName, bool IsBool, string? TypeWord, string Usage, string? Default)
{
    /// <summary>The <see cref="ServerFlags"/> property the value goes to.</summary>
    public required PropertyInfo Property { get; init; }

    /// <summary>Sets <see cref="Property"/> from the value <see cref="GoFlagSyntax"/> read ("true"/"false" for a boolean).</summary>
    public void Bind(ServerFlags flags, string value) => Property.SetValue(flags, IsBool ? value == "true" : value);

    /// <summary>Every flag of the server, sorted by name as Go's usage lists them.</summary>
    public static IReadOnlyList<FlagDeclaration> All { get; } = ReadDeclarations();

    // The attributes on ServerFlags are the single source: the Go-style parsing, the binding and the usage text
    // are derived from them, so a new flag is declared in one place. CommandLineParser's attribute is read as
    // metadata only (CustomAttributeData): neither its parser nor the attribute's own getters run, since they
    // reflect over types in ways that trimming and native AOT cannot follow.
    private static FlagDeclaration[] ReadDeclarations()
    {
        var flags = new List<FlagDeclaration>();
        foreach (var property in typeof(ServerFlags).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            foreach (var attribute in property.GetCustomAttributesData())
            {
                if (attribute.AttributeType != typeof(OptionAttribute)) continue;
                flags.Add(FromAttribute(property, attribute));
            }
        }
        flags.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return flags.ToArray();
    }

    // [Option('b', ...)] declares a short name, [Option("mux", ...)] a long one; Default, MetaValue and HelpText are named.
    private static FlagDeclaration FromAttribute(PropertyInfo property, CustomAttributeData attribute)
    {
        string? shortName = null, longName = null;
        foreach (var argument in attribute.ConstructorArguments)
        {
            if (argument.Value is char letter) shortName = letter.ToString();
            else if (argument.Value is string text) longName = text;
        }
        string? defaultText = null, metaValue = null, helpText = null;
        foreach (var named in attribute.NamedArguments)
        {
            string? value = named.TypedValue.Value as string;
            switch (named.MemberName)
            {
                case nameof(OptionAttribute.Default): defaultText = string.IsNullOrEmpty(value) ? null : value; break;
                case nameof(OptionAttribute.MetaValue): metaValue = value; break;
                case nameof(OptionAttribute.HelpText): helpText = value; break;
            }
        }
        bool isShort = string.IsNullOrEmpty(longName);
        string name = isShort ? shortName! : longName!;
        bool isBool = property.PropertyType == typeof(bool);
        // Values stay raw text until CommandLine validates them, with Go's wording for a bad one.
        if (!isBool && property.PropertyType != typeof(string))
            throw new InvalidOperationException($"ServerFlags.{property.Name}: a flag is a string (validated in CommandLine) or a bool, not {property.PropertyType.Name}");
        return new FlagDeclaration(name, isShort, isBool, isBool ? null : metaValue, helpText ?? "", defaultText) { Property = property };
    }
}
