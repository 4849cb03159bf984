using System.Text;

namespace Mtt.Core.Http;

/// <summary>
/// Reads a comma-separated list field value (RFC 9110 5.6.1): elements are separated by commas with
/// optional whitespace around them, and empty elements are skipped, as recipients must accept them.
/// </summary>
internal static class HttpTokenList
{
    /// <summary>The list holds <paramref name="token"/>, compared as ASCII case-insensitively (Connection, Upgrade).</summary>
    public static bool ContainsIgnoreCase(ReadOnlySpan<byte> list, ReadOnlySpan<byte> token)
    {
        while (TryTakeElement(ref list, out var element))
        {
            if (Ascii.EqualsIgnoreCase(element, token)) return true;
        }
        return false;
    }

    /// <summary>Takes the next non-empty element off the front of <paramref name="list"/>.</summary>
    public static bool TryTakeElement(ref ReadOnlySpan<byte> list, out ReadOnlySpan<byte> element)
    {
        while (!list.IsEmpty)
        {
            int comma = list.IndexOf(HttpSyntax.Comma);
            element = HttpSyntax.TrimOws(comma < 0 ? list : list[..comma]);
            list = comma < 0 ? default : list[(comma + 1)..];
            if (!element.IsEmpty) return true;
        }
        element = default;
        return false;
    }
}
