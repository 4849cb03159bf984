using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Mtt.Core.ClientAddress;

/// <summary>
/// Writes the PROXY protocol header (haproxy proxy-protocol.txt) that tells a backend who the client is:
/// the client's address and port as the source, the address it connected to as the destination. Pure:
/// addresses in, bytes out.
/// </summary>
/// <remarks>
/// IPv4-mapped IPv6 addresses (what a dual-mode listener reports for IPv4 clients) are written as IPv4.
/// When one side is IPv4 and the other IPv6 (possible once the client's address came from elsewhere), the IPv4
/// one is written IPv4-mapped, since both addresses of a header share one family (sections 2.1 and 2.2).
/// Either address unknown (a Unix socket peer): v1 says <c>PROXY UNKNOWN</c>, v2 sends the LOCAL command,
/// and the backend uses the connection's own addresses.
/// </remarks>
internal static class ProxyHeaderWriter
{
    /// <summary>The longest v1 line the spec allows, CRLF included (section 2.1: 107 bytes).</summary>
    public const int MaxV1Length = 107;

    /// <summary>The v2 fixed part (16 bytes) and the largest address block we write, IPv6 over TCP (36 bytes).</summary>
    public const int MaxV2Length = V2FixedLength + V2Inet6BlockLength;

    /// <summary>Room for any header this writer produces.</summary>
    public const int MaxLength = MaxV1Length;

    private const int V2FixedLength = 16;
    private const int V2InetBlockLength = 4 + 4 + 2 + 2;
    private const int V2Inet6BlockLength = 16 + 16 + 2 + 2;

    // Section 2.2: the high nibble is the version (2), the low one the command.
    private const byte V2CommandLocal = 0x20;
    private const byte V2CommandProxy = 0x21;

    // Section 2.2: the high nibble is the address family, the low one the transport (1 = STREAM).
    private const byte V2FamilyUnspecified = 0x00;
    private const byte V2FamilyTcp4 = 0x11;
    private const byte V2FamilyTcp6 = 0x21;

    // Section 2.2: "\r\n\r\n\0\r\nQUIT\n".
    private static ReadOnlySpan<byte> V2Signature => [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    /// <summary>The header as a new array (empty for <see cref="ProxyHeaderVersion.None"/>); built once per client connection.</summary>
    /// <param name="client">The client's address and port, or null when unknown.</param>
    /// <param name="server">The address and port the client connected to, or null when unknown.</param>
    public static byte[] Create(ProxyHeaderVersion version, IPEndPoint? client, IPEndPoint? server)
    {
        if (version == ProxyHeaderVersion.None) return [];
        Span<byte> buffer = stackalloc byte[MaxLength];
        int length = Write(version, client, server, buffer);
        return buffer[..length].ToArray();
    }

    /// <summary>Writes the header to <paramref name="buffer"/> (at least <see cref="MaxLength"/> bytes) and returns its length.</summary>
    public static int Write(ProxyHeaderVersion version, IPEndPoint? client, IPEndPoint? server, Span<byte> buffer)
    {
        bool known = TryNormalise(client, server, out var source, out var destination);
        return version switch
        {
            ProxyHeaderVersion.V1 => known ? WriteV1(source!, client!.Port, destination!, server!.Port, buffer) : WriteV1Unknown(buffer),
            ProxyHeaderVersion.V2 => known ? WriteV2(source!, client!.Port, destination!, server!.Port, buffer) : WriteV2Local(buffer),
            ProxyHeaderVersion.None => 0,
            _ => throw new ArgumentOutOfRangeException(nameof(version), version, "not a PROXY protocol version"),
        };
    }

    // Both addresses IP, in one family; mapped IPv4 unmapped unless the other side needs IPv6.
    private static bool TryNormalise(IPEndPoint? client, IPEndPoint? server, out IPAddress? source, out IPAddress? destination)
    {
        source = destination = null;
        if (client is null || server is null || !IsIp(client.Address) || !IsIp(server.Address)) return false;
        source = Unmapped(client.Address);
        destination = Unmapped(server.Address);
        if (source.AddressFamily != destination.AddressFamily)
        {
            source = source.MapToIPv6();
            destination = destination.MapToIPv6();
        }
        return true;
    }

    private static bool IsIp(IPAddress address) => address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6;

    private static IPAddress Unmapped(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    // Section 2.1: "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n".
    private static int WriteV1(IPAddress source, int sourcePort, IPAddress destination, int destinationPort, Span<byte> buffer)
    {
        int n = Append(buffer, 0, source.AddressFamily == AddressFamily.InterNetwork ? "PROXY TCP4 "u8 : "PROXY TCP6 "u8);
        n = AppendAddress(buffer, n, source);
        n = Append(buffer, n, " "u8);
        n = AppendAddress(buffer, n, destination);
        n = Append(buffer, n, " "u8);
        n = AppendNumber(buffer, n, sourcePort);
        n = Append(buffer, n, " "u8);
        n = AppendNumber(buffer, n, destinationPort);
        return Append(buffer, n, "\r\n"u8);
    }

    // Section 2.1: the receiver ignores the rest of an UNKNOWN line, so nothing follows it.
    private static int WriteV1Unknown(Span<byte> buffer) => Append(buffer, 0, "PROXY UNKNOWN\r\n"u8);

    private static int WriteV2(IPAddress source, int sourcePort, IPAddress destination, int destinationPort, Span<byte> buffer)
    {
        bool inet = source.AddressFamily == AddressFamily.InterNetwork;
        int addressLength = inet ? 4 : 16;
        int blockLength = inet ? V2InetBlockLength : V2Inet6BlockLength;
        WriteV2Fixed(buffer, V2CommandProxy, inet ? V2FamilyTcp4 : V2FamilyTcp6, blockLength);
        var block = buffer.Slice(V2FixedLength, blockLength);
        if (!source.TryWriteBytes(block[..addressLength], out _) || !destination.TryWriteBytes(block.Slice(addressLength, addressLength), out _))
            throw new InvalidOperationException("an address did not fit its PROXY v2 field");
        BinaryPrimitives.WriteUInt16BigEndian(block[(2 * addressLength)..], (ushort)sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(block[(2 * addressLength + 2)..], (ushort)destinationPort);
        return V2FixedLength + blockLength;
    }

    // Section 2.2: LOCAL tells the receiver to use the connection's own endpoints; no address block.
    private static int WriteV2Local(Span<byte> buffer)
    {
        WriteV2Fixed(buffer, V2CommandLocal, V2FamilyUnspecified, 0);
        return V2FixedLength;
    }

    private static void WriteV2Fixed(Span<byte> buffer, byte command, byte family, int blockLength)
    {
        V2Signature.CopyTo(buffer);
        buffer[12] = command;
        buffer[13] = family;
        BinaryPrimitives.WriteUInt16BigEndian(buffer[14..], (ushort)blockLength);
    }

    private static int Append(Span<byte> buffer, int at, ReadOnlySpan<byte> text)
    {
        text.CopyTo(buffer[at..]);
        return at + text.Length;
    }

    // The textual form without a scope id ("%eth0"): the spec's addresses carry none, and a receiver's parser would refuse it.
    private static int AppendAddress(Span<byte> buffer, int at, IPAddress address)
    {
        if (!address.TryFormat(buffer[at..], out int written)) throw new InvalidOperationException("an address did not fit the PROXY v1 line");
        int scope = buffer.Slice(at, written).IndexOf((byte)'%');
        return at + (scope >= 0 ? scope : written);
    }

    private static int AppendNumber(Span<byte> buffer, int at, int value)
    {
        if (!value.TryFormat(buffer[at..], out int written, provider: System.Globalization.CultureInfo.InvariantCulture))
            throw new InvalidOperationException("a port did not fit the PROXY v1 line");
        return at + written;
    }
}
