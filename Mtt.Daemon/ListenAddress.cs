using System.Diagnostics.CodeAnalysis;
using System.Net;
using Mtt.Core.Transport;

namespace Mtt.Daemon;

/// <summary>
/// Where a listener binds, written as Go's <c>net.Listen</c> takes it: <c>host:port</c>, <c>[ipv6]:port</c>, or
/// <c>:port</c> for every interface (a common form in the operators' existing units). Port 0 asks the system for
/// a free port, as in Go.
/// </summary>
public sealed record ListenAddress(string Host, int Port)
{
    public const int MaxLength = HostPortParser.MaxLength;

    /// <summary>True for <c>:port</c>: every interface, IPv4 and IPv6.</summary>
    public bool IsAnyHost => Host.Length == 0;

    /// <summary>
    /// <c>:port</c> is every interface (IPv6 any, which takes IPv4 too); an IP address is itself; a host name stays a
    /// <see cref="DnsEndPoint"/> until the daemon starts and resolves it once, as Go's <c>net.Listen</c> does.
    /// </summary>
    public EndPoint ToEndPoint()
    {
        if (IsAnyHost) return new IPEndPoint(IPAddress.IPv6Any, Port);
        if (IPAddress.TryParse(Host, out var ip)) return new IPEndPoint(ip, Port);
        return new DnsEndPoint(Host, Port);
    }

    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>Parses <c>host:port</c>; on failure <paramref name="error"/> says why, for an operator to read.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out ListenAddress? address, [NotNullWhen(false)] out string? error)
    {
        var result = HostPortParser.Parse(text, listening: true);
        error = result.Error switch
        {
            HostPortError.None => null,
            HostPortError.Empty => "address is empty, want host:port",
            HostPortError.TooLong => "address is too long",
            HostPortError.NotBracketedForm => "want [ipv6]:port",
            HostPortError.NotIPv6 => $"'{result.Host}' is not an IPv6 address",
            HostPortError.NoPort or HostPortError.NoHost => "missing port, want host:port",
            HostPortError.UnbracketedIPv6 => "an IPv6 address needs brackets: [ipv6]:port",
            HostPortError.BadHostName => $"'{result.Host}' is not a valid host name",
            _ => $"port '{text!.AsSpan(result.PortStart)}' must be a number from 0 to 65535",
        };
        address = error is null ? new ListenAddress(result.Host, result.Port) : null;
        return error is null;
    }
}
