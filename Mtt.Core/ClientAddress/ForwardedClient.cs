using System.Net;

namespace Mtt.Core.ClientAddress;

/// <summary>
/// The client address a trusted HTTP reverse proxy reports in X-Forwarded-For or X-Real-IP. The caller has
/// already checked that the peer which sent the headers is one of the <see cref="TrustedProxies"/>. Pure.
/// </summary>
/// <remarks>
/// X-Forwarded-For is read from the right: each proxy appends the address it got the request from, so the
/// rightmost entries were written by our own proxies and the leftmost by whoever spoke first, which may be the
/// client itself writing anything it likes. The first entry from the right that is not a trusted proxy is the
/// client (nginx's <c>real_ip_recursive on</c>); when every entry is a trusted proxy, the leftmost one. An entry
/// that is not an address stops the walk: nothing to its left can be believed. X-Forwarded-For wins over
/// X-Real-IP, which names a single hop and so cannot see past a chain of proxies.
/// </remarks>
public static class ForwardedClient
{
    /// <summary>The client's address, with port 0 when the header gave none.</summary>
    public static bool TryResolve(string? xForwardedFor, string? xRealIp, TrustedProxies trusted, out IPEndPoint client)
    {
        if (xForwardedFor is not null && TryResolveForwardedFor(xForwardedFor, trusted, out client)) return true;
        if (xRealIp is not null && TryParseEntry(xRealIp.AsSpan().Trim(" \t"), out client)) return true;
        client = null!;
        return false;
    }

    private static bool TryResolveForwardedFor(ReadOnlySpan<char> value, TrustedProxies trusted, out IPEndPoint client)
    {
        client = null!;
        while (true)
        {
            int comma = value.LastIndexOf(',');
            if (!TryParseEntry(value[(comma + 1)..].Trim(" \t"), out var hop)) break;
            client = hop;
            if (comma < 0 || !trusted.Contains(hop.Address)) break;
            value = value[..comma];
        }
        return client is not null;
    }

    /// <summary>An address, or an address with a port as some proxies write it: <c>203.0.113.7</c>, <c>203.0.113.7:41234</c>, <c>2001:db8::7</c>, <c>[2001:db8::7]:41234</c>.</summary>
    internal static bool TryParseEntry(ReadOnlySpan<char> entry, out IPEndPoint endPoint)
    {
        endPoint = null!;
        int port = 0;
        IPAddress address;
        if (entry.StartsWith('['))
        {
            int close = entry.IndexOf(']');
            if (close < 0 || !IPAddressText.TryParseIPv6(entry[1..close], out address)) return false;
            var after = entry[(close + 1)..];
            if (!after.IsEmpty && (after[0] != ':' || !IPAddressText.TryParsePort(after[1..], out port))) return false;
        }
        else if (entry.IndexOf(':') is int colon and >= 0 && entry.LastIndexOf(':') == colon)
        {
            // One colon: IPv4 with a port (an IPv6 address has at least two).
            if (!IPAddressText.TryParseIPv4(entry[..colon], out address) || !IPAddressText.TryParsePort(entry[(colon + 1)..], out port)) return false;
        }
        else if (!IPAddressText.TryParse(entry, out address))
        {
            return false;
        }
        endPoint = new IPEndPoint(address, port);
        return true;
    }
}
