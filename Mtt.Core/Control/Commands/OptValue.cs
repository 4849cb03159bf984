using System.Text.Json.Serialization;

namespace Mtt.Core.Control.Commands;

/// <summary>The <c>opt</c> field: absent (or null), an integer, or something else.</summary>
[JsonConverter(typeof(OptValueConverter))]
internal readonly record struct OptValue(bool IsPresent, bool IsInteger, int Value)
{
    public static OptValue Absent => default;

    public static OptValue NotAnInteger => new(IsPresent: true, IsInteger: false, Value: 0);

    public static OptValue Of(int value) => new(IsPresent: true, IsInteger: true, Value: value);
}
