using System.Net;
using System.Net.Sockets;

namespace Mtt.Core.ClientAddress;

/// <summary>
/// <c>-trusted-proxy</c>: the address ranges of the reverse proxies whose X-Forwarded-For and X-Real-IP are
/// believed. Immutable; the ranges are <see cref="IPNetwork"/> values, parsed here more strictly than
/// <see cref="IPNetwork.TryParse(string, out IPNetwork)"/> would.
/// </summary>
public sealed class TrustedProxies
{
    private readonly IPNetwork[] _networks;

    private TrustedProxies(IPNetwork[] networks)
    {
        _networks = networks;
    }

    public IReadOnlyList<IPNetwork> Networks => _networks;

    /// <summary>
    /// A comma-separated list of CIDRs (<c>10.0.0.0/8</c>, <c>::1/128</c>) or bare addresses (one host). Refused:
    /// an empty entry, a non-canonical address, a prefix out of range, and set host bits (<c>10.0.0.1/8</c>), which
    /// usually means the operator meant one host and would otherwise trust a whole range.
    /// </summary>
    public static bool TryParse(string text, out TrustedProxies proxies, out string error)
    {
        proxies = new TrustedProxies([]);
        var networks = new List<IPNetwork>();
        foreach (var part in text.Split(','))
        {
            string entry = part.Trim();
            if (!TryParseNetwork(entry, out var network, out error)) return false;
            networks.Add(network);
        }
        proxies = new TrustedProxies([.. networks]);
        error = "";
        return true;
    }

    private static bool TryParseNetwork(string entry, out IPNetwork network, out string error)
    {
        network = default;
        if (entry.Length == 0)
        {
            error = "an empty entry: give CIDRs such as 10.0.0.0/8 or ::1/128, separated by commas";
            return false;
        }
        int slash = entry.IndexOf('/');
        var addressText = slash < 0 ? entry.AsSpan() : entry.AsSpan(0, slash);
        if (!IPAddressText.TryParse(addressText, out var address))
        {
            error = $"\"{entry}\" is not an IPv4 or IPv6 address (CIDR such as 10.0.0.0/8 or ::1/128)";
            return false;
        }
        int maxPrefix = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        int prefix = maxPrefix;
        if (slash >= 0 && (!int.TryParse(entry.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out prefix) || prefix > maxPrefix))
        {
            error = $"\"{entry}\": the prefix length must be 0 to {maxPrefix}";
            return false;
        }
        var masked = new IPNetwork(Masked(address, prefix), prefix);
        if (!masked.BaseAddress.Equals(address))
        {
            error = $"\"{entry}\" has bits set after the /{prefix} prefix: did you mean {masked} (the range) or {address}/{maxPrefix} (the one host)?";
            return false;
        }
        network = masked;
        error = "";
        return true;
    }

    private static IPAddress Masked(IPAddress address, int prefix)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int length);
        bytes = bytes[..length];
        for (int bit = prefix; bit < length * 8; bit++) bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        return new IPAddress(bytes);
    }

    /// <summary>
    /// Whether <paramref name="address"/> is in one of the ranges. An IPv4-mapped IPv6 address (a dual-stack
    /// listener's view of an IPv4 peer) is compared as the IPv4 address it is.
    /// </summary>
    public bool Contains(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        foreach (var network in _networks)
        {
            if (network.Contains(address)) return true;
        }
        return false;
    }

    public override string ToString() => string.Join(",", _networks);
}
