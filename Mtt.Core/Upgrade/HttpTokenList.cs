using System.Text;

namespace Mtt.Core.Upgrade;

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

    /// <summary>
    /// The first element that names a subprotocol this server speaks, in the client's order. Compared
    /// case-sensitively: RFC 6455 4.1 treats subprotocol names as exact strings, and gorilla/websocket,
    /// which the original server used, matches them with ==.
    /// </summary>
    public static Subprotocol FirstKnownSubprotocol(ReadOnlySpan<byte> list)
    {
        while (TryTakeElement(ref list, out var element))
        {
            if (element.SequenceEqual("smux_on"u8)) return Subprotocol.SmuxOn;
            if (element.SequenceEqual("smux_off"u8)) return Subprotocol.SmuxOff;
        }
        return Subprotocol.None;
    }

    private static bool TryTakeElement(ref ReadOnlySpan<byte> list, out ReadOnlySpan<byte> element)
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
