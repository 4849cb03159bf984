namespace Mtt.Core.Control.Http;

/// <summary>Bounds on what one controller client may cost the server; the defaults suit the scripts that drive it.</summary>
public sealed class ControllerLimits
{
    /// <summary>docs/protocol.md §5.5: a command body is at most 2 MiB (about 45,000 users in one request).</summary>
    public const int DefaultMaxBodyBytes = 2 * 1024 * 1024;

    /// <summary>A controller request head is a request line and a handful of headers; 16 KiB is generous.</summary>
    public const int DefaultMaxHeadBytes = 16 * 1024;

    /// <summary>The original server gave a request 10 s; a 2 MiB body over loopback takes milliseconds.</summary>
    public static readonly TimeSpan DefaultReadTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The controller serves local scripts: a few connections at a time, never hundreds.</summary>
    public const int DefaultMaxConnections = 64;

    public static ControllerLimits Default { get; } = new();

    /// <summary>A declared or streamed body larger than this gets 413 and nothing is applied.</summary>
    public int MaxBodyBytes { get; init; } = DefaultMaxBodyBytes;

    /// <summary>Request line plus headers; larger gets 431.</summary>
    public int MaxHeadBytes { get; init; } = DefaultMaxHeadBytes;

    /// <summary>
    /// The whole request, head and body, must arrive within this time from its first byte (a slow drip
    /// counts against it); an idle keep-alive connection is closed after the same time.
    /// </summary>
    public TimeSpan ReadTimeout { get; init; } = DefaultReadTimeout;

    /// <summary>Connections served at once; one more is answered 503 and closed.</summary>
    public int MaxConnections { get; init; } = DefaultMaxConnections;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxBodyBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxHeadBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxConnections);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ReadTimeout, TimeSpan.Zero);
    }
}
