using System.Net;
using System.Net.Sockets;

namespace Mtt.Core.ClientAddress;

/// <summary>
/// Addresses and ports in their canonical text only, as the PROXY protocol (section 2.1) writes them.
/// <see cref="IPAddress.TryParse(string, out IPAddress)"/> alone is too lenient for input from the network:
/// it reads "1" as 0.0.0.1, "0x7f.1" as 127.0.0.1 and "fe80::1%eth0" with a scope.
/// </summary>
internal static class IPAddressText
{
    /// <summary>"255.255.255.255".</summary>
    public const int MaxIPv4Length = 15;

    /// <summary>"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255": INET6_ADDRSTRLEN less its NUL.</summary>
    public const int MaxIPv6Length = 45;

    /// <summary>Four decimal numbers 0-255 joined by single dots, without leading zeros (which other parsers read as octal).</summary>
    public static bool TryParseIPv4(ReadOnlySpan<char> text, out IPAddress address)
    {
        address = IPAddress.None;
        if (text.Length is < 7 or > MaxIPv4Length) return false;
        Span<byte> bytes = stackalloc byte[4];
        int part = 0;
        int start = 0;
        for (int i = 0; i <= text.Length; i++)
        {
            if (i < text.Length && text[i] != '.') continue;
            if (part == 4 || !TryParseDecimal(text[start..i], 255, out int value)) return false;
            bytes[part++] = (byte)value;
            start = i + 1;
        }
        if (part != 4) return false;
        address = new IPAddress(bytes);
        return true;
    }

    /// <summary>An IPv6 address of hex groups, one "::" and an optional dotted tail (inet_ntop's form for mapped addresses); no scope.</summary>
    public static bool TryParseIPv6(ReadOnlySpan<char> text, out IPAddress address)
    {
        address = IPAddress.None;
        if (text.Length is < 2 or > MaxIPv6Length) return false;
        foreach (char c in text)
        {
            if (!char.IsAsciiHexDigit(c) && c is not (':' or '.')) return false;
        }
        if (!IPAddress.TryParse(text, out var parsed) || parsed.AddressFamily != AddressFamily.InterNetworkV6) return false;
        address = parsed;
        return true;
    }

    /// <summary>Either family, each in its canonical form.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out IPAddress address) =>
        text.Contains(':') ? TryParseIPv6(text, out address) : TryParseIPv4(text, out address);

    /// <summary>A decimal port 0-65535 without leading zeros.</summary>
    public static bool TryParsePort(ReadOnlySpan<char> text, out int port) => TryParseDecimal(text, IPEndPoint.MaxPort, out port);

    // 1 to 5 digits, "0" itself but no other leading zero, at most max.
    private static bool TryParseDecimal(ReadOnlySpan<char> text, int max, out int value)
    {
        value = 0;
        if (text.Length is 0 or > 5 || (text[0] == '0' && text.Length > 1)) return false;
        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c)) return false;
            value = value * 10 + (c - '0');
        }
        return value <= max;
    }
}
