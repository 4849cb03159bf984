using System.Diagnostics.CodeAnalysis;

namespace Mtt.Core.Transport;

/// <summary>A user's backend, <c>host:port</c> as the controller gave it; the host may be a name, IPv4 or bracketed IPv6.</summary>
public sealed record BackendAddress(string Host, int Port)
{
    public const int MaxLength = HostPortParser.MaxLength;

    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>Parses <c>host:port</c>; on failure <paramref name="error"/> says why, for an operator to read.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out BackendAddress? address, [NotNullWhen(false)] out string? error)
    {
        var result = HostPortParser.Parse(text, listening: false);
        error = result.Error switch
        {
            HostPortError.None => null,
            HostPortError.Empty => "dst is empty",
            HostPortError.TooLong => "dst is too long",
            HostPortError.NotBracketedForm => "dst must be [ipv6]:port",
            HostPortError.NotIPv6 => "dst has an invalid IPv6 address",
            HostPortError.NoPort or HostPortError.NoHost => "dst must be host:port",
            HostPortError.UnbracketedIPv6 => "dst with an IPv6 address needs brackets: [ipv6]:port",
            HostPortError.BadHostName => "dst has an invalid host name",
            _ => "dst port must be 1-65535",
        };
        address = error is null ? new BackendAddress(result.Host, result.Port) : null;
        return error is null;
    }
}
