using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Mtt.Core.ClientAddress;
using Mtt.Core.Diagnostics;

namespace Mtt.Core.Listening;

/// <summary>
/// <c>-max-pending-per-ip</c>: connections accepted and not yet tunnels (nor refused), counted per client
/// address, so that one address cannot hold a large part of <see cref="TunnelServerOptions.MaxConnections"/>
/// with connections that never finish their handshake. An address has an entry only while it has a
/// connection pending, so the table never holds more entries than there are connections open.
/// </summary>
internal sealed class PendingConnections
{
    private readonly int _limit;
    private readonly Dictionary<IPAddress, Entry> _byAddress = [];
    private readonly Lock _lock = new();

    /// <param name="limit">Connections pending at once per address; 0 counts nothing.</param>
    public PendingConnections(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        _limit = limit;
    }

    public bool Enabled => _limit > 0;

    public int Limit => _limit;

    /// <summary>Addresses with a connection pending now; for tests.</summary>
    internal int Addresses
    {
        get
        {
            lock (_lock) return _byAddress.Count;
        }
    }

    /// <summary>
    /// Counts a connection of <paramref name="client"/> as pending (<paramref name="key"/>: what to
    /// <see cref="Leave"/> later; null when nothing was counted), or refuses it: counted in the metrics, and the first
    /// refusal of a spell logged. Addresses in <paramref name="trusted"/> are not counted: a proxy speaks for many clients.
    /// </summary>
    public bool TryAdmit(IPAddress client, TrustedProxies? trusted, ServerMetrics metrics, ILogger log, out IPAddress? key)
    {
        key = null;
        if (!Enabled) return true;
        if (client.IsIPv4MappedToIPv6) client = client.MapToIPv4();
        if (trusted is not null && trusted.Contains(client)) return true;
        if (TryEnter(client, out var entered, out bool firstRefusal))
        {
            key = entered;
            return true;
        }
        metrics.HandshakeRefused(HandshakeRefusal.PendingPerAddress);
        if (firstRefusal) ListeningLog.PendingPerAddressLimitReached(log, entered, _limit);
        return false;
    }

    /// <summary>
    /// Counts one more pending connection of <paramref name="address"/>, or refuses it when the address is at the
    /// limit. <paramref name="key"/> is what to hand to <see cref="Leave"/> once the connection is no longer pending.
    /// <paramref name="firstRefusal"/> is true for the first refusal since the address last had none pending, so
    /// the caller logs a spell at the limit once, not every refusal of it.
    /// </summary>
    public bool TryEnter(IPAddress address, out IPAddress key, out bool firstRefusal)
    {
        key = KeyFor(address);
        firstRefusal = false;
        lock (_lock)
        {
            ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(_byAddress, key, out _);
            if (entry.Count < _limit)
            {
                entry.Count++;
                return true;
            }
            firstRefusal = !entry.Warned;
            entry.Warned = true;
            return false;
        }
    }

    /// <summary>One connection of <paramref name="key"/> (from <see cref="TryEnter"/>) is a tunnel now, or has ended.</summary>
    public void Leave(IPAddress key)
    {
        lock (_lock)
        {
            ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(_byAddress, key);
            if (System.Runtime.CompilerServices.Unsafe.IsNullRef(ref entry)) return;
            // Removed at zero: an address that is gone leaves nothing behind.
            if (--entry.Count <= 0) _byAddress.Remove(key);
        }
    }

    /// <summary>
    /// IPv4 (and IPv4-mapped IPv6) by address; IPv6 by its /64, since one host is usually given a whole /64
    /// (RFC 4291 section 2.5.4 and common practice) and could otherwise take a fresh address per connection.
    /// </summary>
    private static IPAddress KeyFor(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) return address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address;
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }

    private struct Entry
    {
        public int Count;
        public bool Warned;
    }
}
