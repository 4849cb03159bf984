using System.Net;

namespace Mtt.Core.Control.Http;

/// <summary>
/// How the controller listener behaves. The daemon builds it from the command line; a host name in
/// <see cref="Bind"/> is resolved at start and put in with a <c>with</c> expression.
/// </summary>
public sealed record ControllerServerOptions
{
    /// <summary>
    /// <c>-c</c>: where to listen, an <see cref="IPEndPoint"/> by the time the server is made (port 0 picks a free
    /// port, for tests). A <see cref="DnsEndPoint"/> is what the command line gives for a host name, resolved once at
    /// start as Go's <c>net.Listen</c> does.
    /// </summary>
    public required EndPoint Bind { get; init; }

    /// <summary><c>-c-token</c>: the bearer token every request must carry, or null for none.</summary>
    /// <remarks>A <see cref="ControllerToken"/> keeps its value to itself, so printing these options shows no secret.</remarks>
    public ControllerToken? Token { get; init; }

    /// <summary>Bounds on what one controller client may cost; the defaults suit the scripts that drive it.</summary>
    public ControllerLimits Limits { get; init; } = ControllerLimits.Default;

    /// <summary>The clock of the read timeout and the accept retry; tests pass a fake one.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
