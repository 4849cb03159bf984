using System.Security.Cryptography;
using System.Text;
using Mtt.Core.Limits;
using Mtt.Core.Transport;

namespace Mtt.Core.Routing;

/// <summary>
/// One user: the secret request path, the backend that path's tunnels are relayed to, an optional
/// name for logs and metrics (paths are secrets), and the user's running <see cref="State"/>.
/// </summary>
public sealed record Route(string Path, BackendAddress Backend, string? Name = null)
{
    // Hex digits of the path's SHA-256 that stand for an unnamed user: enough to tell users apart, far too few to find the path.
    private const int PathHashHexDigits = 8;

    private string? _label;

    /// <summary>Counters and the revoked signal; carried into the next table while path and dst stay the same.</summary>
    public UserState State { get; init; } = new();

    /// <summary>What the user may use (max_conns, max_ips, rate, quota, expires); <see cref="UserLimits.None"/> when unlimited.</summary>
    public UserLimits Limits { get; init; } = UserLimits.None;

    /// <summary>What logs and metrics call the user: its name, else <c>#</c> and a short hash of the path; never the path.</summary>
    public string Label => _label ??= Name ?? HashLabel(Path);

    private static string HashLabel(string path)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(path), hash);
        return "#" + Convert.ToHexStringLower(hash)[..PathHashHexDigits];
    }
}
