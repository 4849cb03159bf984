namespace Mtt.Core.Limits;

/// <summary>
/// What one user may use (docs/protocol.md §5.7, opt 1's optional fields): each one null when not set, and a
/// user with none set is unlimited and pays nothing for the feature. A value: a command that sets limits
/// builds a new one; the enforcing side (<see cref="UserLimiter"/>) follows the latest it was given.
/// </summary>
public sealed record UserLimits(int? MaxConns = null, int? MaxIps = null, long? Rate = null, long? Quota = null, DateTimeOffset? Expires = null)
{
    // Bounds that keep arithmetic far from overflow and refuse values that can only be typing errors.
    public const int MaxCount = 1_000_000;
    public const long MaxRate = 1L << 40;
    public const long MaxQuota = 1L << 60;

    public static UserLimits None { get; } = new();

    public bool IsNone => MaxConns is null && MaxIps is null && Rate is null && Quota is null && Expires is null;
}
