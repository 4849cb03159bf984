using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Mtt.Core.Transport;

/// <summary>
/// The one parser of <c>host:port</c>, as Go's <c>net.SplitHostPort</c> takes it: a name or IPv4 literal, or a
/// bracketed IPv6 address (RFC 3986 §3.2.2), then a decimal port. Pure: text in, a result out, no resolution.
/// A user's dst and a listener's address differ only in <paramref name="listening"/>, see <see cref="Parse"/>.
/// </summary>
public static class HostPortParser
{
    // Longest DNS name (RFC 1035) plus brackets, a colon and five digits: nothing legitimate is longer.
    public const int MaxLength = 253 + 2 + 6;

    private const int MaxHostNameLength = 253;

    /// <summary>
    /// Parses <paramref name="text"/>. With <paramref name="listening"/>, <c>:port</c> (every interface) and port 0
    /// (the system picks one) are accepted, as Go's <c>net.Listen</c> takes them; a backend needs both a host and a real port.
    /// </summary>
    public static HostPortParseResult Parse(string? text, bool listening)
    {
        if (string.IsNullOrEmpty(text)) return Refused(HostPortError.Empty);
        if (text.Length > MaxLength) return Refused(HostPortError.TooLong);

        string host;
        int portStart;
        if (text[0] == '[')
        {
            int close = text.IndexOf(']');
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':') return Refused(HostPortError.NotBracketedForm);
            host = text.Substring(1, close - 1);
            if (!IPAddress.TryParse(host, out var ip) || ip.AddressFamily != AddressFamily.InterNetworkV6)
                return Refused(HostPortError.NotIPv6, host);
            portStart = close + 2;
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon < 0) return Refused(HostPortError.NoPort);
            if (text.IndexOf(':') != colon) return Refused(HostPortError.UnbracketedIPv6);
            host = text.Substring(0, colon);
            if (host.Length == 0 && !listening) return Refused(HostPortError.NoHost);
            if (host.Length > 0 && !IsHostName(host)) return Refused(HostPortError.BadHostName, host);
            portStart = colon + 1;
        }

        if (!TryParsePort(text.AsSpan(portStart), out int port) || (port == 0 && !listening))
            return new HostPortParseResult(HostPortError.BadPort, host, 0, portStart);
        return new HostPortParseResult(HostPortError.None, host, port, portStart);
    }

    private static HostPortParseResult Refused(HostPortError error, string host = "") => new(error, host, 0, -1);

    // One to five ASCII digits: no sign, no spaces, no "0x", which int.TryParse alone would let through in some styles.
    private static bool TryParsePort(ReadOnlySpan<char> text, out int port)
    {
        port = 0;
        if (text.Length is 0 or > 5) return false;
        foreach (char c in text) if (c is < '0' or > '9') return false;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= 65535;
    }

    // Letters, digits, '-', '.', '_' (seen in service names); IPv4 literals pass too.
    private static bool IsHostName(string host)
    {
        if (host.Length > MaxHostNameLength) return false;
        foreach (char c in host)
        {
            bool ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '.' or '_';
            if (!ok) return false;
        }
        return true;
    }
}
