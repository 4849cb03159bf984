using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Mtt.Daemon;

/// <summary>
/// Where a listener binds, written as Go's <c>net.Listen</c> takes it: <c>host:port</c>, <c>[ipv6]:port</c>, or
/// <c>:port</c> for every interface (a common form in the operators' existing units). Port 0 asks the system for
/// a free port, as in Go.
/// </summary>
public sealed record ListenAddress(string Host, int Port)
{
    // Longest DNS name (RFC 1035) plus brackets, a colon and five digits.
    public const int MaxLength = 253 + 2 + 6;

    /// <summary>True for <c>:port</c>: every interface, IPv4 and IPv6.</summary>
    public bool IsAnyHost => Host.Length == 0;

    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>Parses <c>host:port</c>; on failure <paramref name="error"/> says why, for an operator to read.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out ListenAddress? address, [NotNullWhen(false)] out string? error)
    {
        address = null;
        if (string.IsNullOrEmpty(text)) { error = "address is empty, want host:port"; return false; }
        if (text.Length > MaxLength) { error = "address is too long"; return false; }

        string host;
        ReadOnlySpan<char> port;
        if (text[0] == '[')
        {
            int close = text.IndexOf(']');
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':') { error = "want [ipv6]:port"; return false; }
            host = text.Substring(1, close - 1);
            if (!IPAddress.TryParse(host, out var ip) || ip.AddressFamily != AddressFamily.InterNetworkV6)
            { error = $"'{host}' is not an IPv6 address"; return false; }
            port = text.AsSpan(close + 2);
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon < 0) { error = "missing port, want host:port"; return false; }
            if (text.IndexOf(':') != colon) { error = "an IPv6 address needs brackets: [ipv6]:port"; return false; }
            host = text.Substring(0, colon);
            port = text.AsSpan(colon + 1);
            if (host.Length > 0 && !IsHostName(host)) { error = $"'{host}' is not a valid host name"; return false; }
        }

        if (!TryParsePort(port, out int number)) { error = $"port '{port}' must be a number from 0 to 65535"; return false; }
        address = new ListenAddress(host, number);
        error = null;
        return true;
    }

    private static bool TryParsePort(ReadOnlySpan<char> text, out int port)
    {
        port = 0;
        if (text.Length is 0 or > 5) return false;
        foreach (char c in text) if (c is < '0' or > '9') return false;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= 65535;
    }

    // Letters, digits, '-', '.', '_'; IPv4 literals pass too.
    private static bool IsHostName(string host)
    {
        foreach (char c in host)
        {
            bool ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '.' or '_';
            if (!ok) return false;
        }
        return true;
    }
}
