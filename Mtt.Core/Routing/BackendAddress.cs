using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;

namespace Mtt.Core.Routing;

/// <summary>A user's backend, <c>host:port</c> as the controller gave it; the host may be a name, IPv4 or bracketed IPv6.</summary>
public sealed record BackendAddress(string Host, int Port)
{
    // Longest DNS name (RFC 1035) plus brackets and a port: nothing legitimate is longer.
    public const int MaxLength = 253 + 2 + 6;

    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>Parses <c>host:port</c>; on failure <paramref name="error"/> says why, for an operator to read.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out BackendAddress? address, [NotNullWhen(false)] out string? error)
    {
        address = null;
        if (string.IsNullOrEmpty(text)) { error = "dst is empty"; return false; }
        if (text.Length > MaxLength) { error = "dst is too long"; return false; }

        string host;
        ReadOnlySpan<char> portText;
        if (text[0] == '[')
        {
            int close = text.IndexOf(']');
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':') { error = "dst must be [ipv6]:port"; return false; }
            host = text.Substring(1, close - 1);
            if (!IPAddress.TryParse(host, out var ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            { error = "dst has an invalid IPv6 address"; return false; }
            portText = text.AsSpan(close + 2);
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon <= 0) { error = "dst must be host:port"; return false; }
            if (text.IndexOf(':') != colon) { error = "dst with an IPv6 address needs brackets: [ipv6]:port"; return false; }
            host = text.Substring(0, colon);
            portText = text.AsSpan(colon + 1);
            if (!IsHostName(host)) { error = "dst has an invalid host name"; return false; }
        }

        if (portText.Length is 0 or > 5 || !IsAllDigits(portText)
            || !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        { error = "dst port must be 1-65535"; return false; }

        address = new BackendAddress(host, port);
        error = null;
        return true;
    }

    private static bool IsAllDigits(ReadOnlySpan<char> s)
    {
        foreach (char c in s) if (c is < '0' or > '9') return false;
        return true;
    }

    // Letters, digits, '-', '.', '_' (seen in service names); IPv4 literals pass too.
    private static bool IsHostName(string host)
    {
        if (host.Length is 0 or > 253) return false;
        foreach (char c in host)
        {
            bool ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '.' or '_';
            if (!ok) return false;
        }
        return true;
    }
}
