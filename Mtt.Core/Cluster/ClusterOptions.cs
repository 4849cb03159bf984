namespace Mtt.Core.Cluster;

/// <summary><c>-redis</c> and <c>-redis-prefix</c>, and the cluster's timings (fixed; tests may shorten none of them).</summary>
public sealed class ClusterOptions
{
    /// <summary>The default <c>-redis-prefix</c>; put it in braces (<c>{mtt}:</c>) on Redis Cluster so every key shares one slot.</summary>
    public const string DefaultPrefix = "mtt:";

    /// <summary>A StackExchange.Redis configuration string: <c>host:port</c>, several endpoints, <c>password=</c>, <c>ssl=true</c>, <c>serviceName=</c>.</summary>
    public required string Configuration { get; init; }

    public string Prefix { get; init; } = DefaultPrefix;

    /// <summary>How often counters are flushed, the heartbeat renewed and the version compared: the issue asks for at least once a second.</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A heartbeat lives this long: an instance missing five ticks is no longer listed.</summary>
    public TimeSpan HeartbeatLifetime { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A change must run in Redis within this long of being sent, else the script refuses it: a paused Redis
    /// (SIGSTOP) that wakes up later must not apply a change the controller already answered with <c>res: 2</c>.
    /// Generous: a command of 20,000 users took 1.2 s of script time on a busy 2-core machine.
    /// </summary>
    public TimeSpan ChangeDeadline { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a call waits for Redis. Longer than <see cref="ChangeDeadline"/> by a margin that covers the clock
    /// difference between this host and Redis's (NTP keeps it far smaller), so a refused change cannot land later.
    /// </summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A full resync (40,000 users take well under a second) gets this long.</summary>
    public TimeSpan ResyncTimeout { get; init; } = TimeSpan.FromSeconds(15);

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Null when StackExchange.Redis reads <paramref name="configuration"/> and it names an endpoint, else why not.</summary>
    public static string? CheckConfiguration(string configuration)
    {
        try
        {
            var parsed = StackExchange.Redis.ConfigurationOptions.Parse(configuration);
            return parsed.EndPoints.Count == 0 ? "no Redis endpoint (host:port) in it" : null;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or NotSupportedException)
        {
            return e.Message;
        }
    }

    /// <summary>Null when <paramref name="prefix"/> is usable as a key prefix (1 to 64 printable characters, no space), else why not.</summary>
    public static string? CheckPrefix(string prefix)
    {
        if (prefix.Length is 0 or > MaxPrefixLength) return $"must be 1 to {MaxPrefixLength} characters";
        foreach (char c in prefix)
        {
            if (c <= ' ' || c == '\u007f') return "must not hold spaces or control characters";
        }
        return null;
    }

    // Every key carries it; a long one only costs memory and bandwidth.
    private const int MaxPrefixLength = 64;
}
