namespace Mtt.Core.Transport;

/// <summary>Why <see cref="HostPortParser"/> refused a <c>host:port</c>; each caller words it for its own reader.</summary>
public enum HostPortError
{
    None,

    /// <summary>No text at all.</summary>
    Empty,

    /// <summary>Longer than <see cref="HostPortParser.MaxLength"/>.</summary>
    TooLong,

    /// <summary>Starts with '[' but is not <c>[ipv6]:port</c>.</summary>
    NotBracketedForm,

    /// <summary>Between the brackets is not an IPv6 address.</summary>
    NotIPv6,

    /// <summary>No ':' at all.</summary>
    NoPort,

    /// <summary><c>:port</c> where a host is required.</summary>
    NoHost,

    /// <summary>More than one ':' without brackets: an IPv6 address written bare (RFC 3986 §3.2.2 wants brackets).</summary>
    UnbracketedIPv6,

    /// <summary>A character outside letters, digits, '-', '.', '_', or a name longer than DNS allows.</summary>
    BadHostName,

    /// <summary>Not one to five digits, or outside the range the caller allows.</summary>
    BadPort,
}
