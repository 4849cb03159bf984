using System.Buffers;
using System.Buffers.Binary;
using System.Net;

namespace Mtt.Core.ClientAddress;

/// <summary>
/// The PROXY protocol header (haproxy's doc/proxy-protocol.txt), version 1 (text) or 2 (binary), that an L4
/// proxy (HAProxy <c>send-proxy</c>, nginx <c>proxy_protocol on</c>) puts in front of the client's first byte.
/// Pure: bytes in, a verdict and a length out.
/// </summary>
/// <remarks>
/// NeedMoreData is returned only while every byte seen is still part of the header (v1: no LF yet; v2: fewer
/// bytes than its length field says), so a reader may consume all it has seen and ask for more without ever
/// taking a byte of the TLS ClientHello or HTTP head that follows. An invalid prefix is refused at once
/// (section 2.1: "abort the connection as soon as possible").
/// </remarks>
public static class ProxyHeaderParser
{
    /// <summary>Section 2.1: "PROXY UNKNOWN" with two full IPv6 addresses and ports, CRLF included, the longest line a sender writes.</summary>
    public const int MaxV1Length = 107;

    /// <summary>Section 2.2: signature (12), version and command, family and transport, length (2).</summary>
    public const int V2FixedLength = 16;

    /// <summary>
    /// The v2 length field's ceiling (addresses and TLVs): the largest address block (AF_UNIX, 216 bytes) plus the
    /// TLVs real proxies send at their largest (authority 255, unique id 128, SSL details, CRC32C, cloud endpoint
    /// ids) stays well below it. A longer header is no proxy we know, and is refused rather than buffered.
    /// </summary>
    public const int MaxV2AddressLength = 1024;

    /// <summary>The most bytes a header can take: a reader's buffer of this size always suffices.</summary>
    public const int MaxHeaderLength = V2FixedLength + MaxV2AddressLength;

    private static ReadOnlySpan<byte> V1Prefix => "PROXY "u8;

    private static ReadOnlySpan<byte> V2Signature => [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    // Section 2.2: the v2 fields.
    private const int CommandLocal = 0x0;
    private const int CommandProxy = 0x1;
    private const int FamilyInet = 0x1;
    private const int FamilyInet6 = 0x2;
    private const int FamilyUnix = 0x3;
    private const int TransportStream = 0x1;
    private const int TransportDgram = 0x2;
    private const int Inet4AddressLength = 2 * 4 + 2 * 2;
    private const int Inet6AddressLength = 2 * 16 + 2 * 2;

    public static ProxyHeaderParseResult Parse(in ReadOnlySequence<byte> buffer)
    {
        if (buffer.IsSingleSegment) return Parse(buffer.FirstSpan);
        // A header is never longer than this, so copying at most this much sees all of it.
        int length = (int)Math.Min(buffer.Length, MaxHeaderLength);
        Span<byte> copy = stackalloc byte[MaxHeaderLength];
        buffer.Slice(0, length).CopyTo(copy);
        var result = Parse(copy[..length]);
        return result.Status == ProxyHeaderParseStatus.NeedMoreData ? ProxyHeaderParseResult.NeedMoreData((int)Math.Min(buffer.Length, int.MaxValue)) : result;
    }

    public static ProxyHeaderParseResult Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return ProxyHeaderParseResult.NeedMoreData(0);
        // Section 2.2: "PROXY" starts version 1, the signature's CR version 2, anything else neither.
        if (bytes[0] == V1Prefix[0]) return ParseV1(bytes);
        if (bytes[0] == V2Signature[0]) return ParseV2(bytes);
        return ProxyHeaderParseResult.Invalid(0, "no PROXY protocol header");
    }

    private static ProxyHeaderParseResult ParseV1(ReadOnlySpan<byte> bytes)
    {
        int prefix = Math.Min(bytes.Length, V1Prefix.Length);
        if (!bytes[..prefix].SequenceEqual(V1Prefix[..prefix])) return ProxyHeaderParseResult.Invalid(0, "no PROXY protocol header");

        var window = bytes[..Math.Min(bytes.Length, MaxV1Length)];
        int lf = window.IndexOf((byte)'\n');
        if (lf < 0)
        {
            return bytes.Length >= MaxV1Length
                ? ProxyHeaderParseResult.Invalid(1, "PROXY v1 line without CRLF in its first 107 bytes")
                : ProxyHeaderParseResult.NeedMoreData(bytes.Length);
        }
        // Section 2.1: "The receiver must not tolerate a single CR or LF character to end the line".
        if (bytes[lf - 1] != '\r') return ProxyHeaderParseResult.Invalid(1, "PROXY v1 line ends in LF without CR");
        int length = lf + 1;
        var line = bytes[V1Prefix.Length..(lf - 1)];

        int space = line.IndexOf((byte)' ');
        var protocol = space < 0 ? line : line[..space];
        // "UNKNOWN": the receiver must ignore anything before the CRLF.
        if (protocol.SequenceEqual("UNKNOWN"u8)) return ProxyHeaderParseResult.Local(1, length);
        bool v4 = protocol.SequenceEqual("TCP4"u8);
        if (!v4 && !protocol.SequenceEqual("TCP6"u8)) return ProxyHeaderParseResult.Invalid(1, "PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN");
        if (space < 0) return ProxyHeaderParseResult.Invalid(1, "PROXY v1 line without addresses");

        // Exactly " src dst srcport dstport", one space between each.
        Span<Range> fields = stackalloc Range[4];
        var rest = line[(space + 1)..];
        if (!TrySplitFields(rest, fields)) return ProxyHeaderParseResult.Invalid(1, "PROXY v1 line does not have four address fields");
        if (!TryParseV1Address(rest[fields[0]], v4, out var source) || !TryParseV1Address(rest[fields[1]], v4, out var destination))
            return ProxyHeaderParseResult.Invalid(1, v4 ? "PROXY v1 TCP4 address is not a dotted quad" : "PROXY v1 TCP6 address is not an IPv6 address");
        if (!TryParseV1Port(rest[fields[2]], out int sourcePort) || !TryParseV1Port(rest[fields[3]], out int destinationPort))
            return ProxyHeaderParseResult.Invalid(1, "PROXY v1 port is not a number 0-65535");
        return ProxyHeaderParseResult.Proxied(1, length, new IPEndPoint(source, sourcePort), new IPEndPoint(destination, destinationPort));
    }

    /// <summary>Exactly <c>fields.Length</c> non-empty fields, separated by single spaces.</summary>
    private static bool TrySplitFields(ReadOnlySpan<byte> text, Span<Range> fields)
    {
        int start = 0;
        for (int i = 0; i < fields.Length; i++)
        {
            int space = text[start..].IndexOf((byte)' ');
            int end = space < 0 ? text.Length : start + space;
            if (end == start || (space < 0) != (i == fields.Length - 1)) return false;
            fields[i] = start..end;
            start = end + 1;
        }
        return true;
    }

    private static bool TryParseV1Address(ReadOnlySpan<byte> field, bool v4, out IPAddress address)
    {
        address = IPAddress.None;
        if (field.Length > IPAddressText.MaxIPv6Length) return false;
        Span<char> text = stackalloc char[IPAddressText.MaxIPv6Length];
        for (int i = 0; i < field.Length; i++) text[i] = (char)field[i];
        return v4 ? IPAddressText.TryParseIPv4(text[..field.Length], out address) : IPAddressText.TryParseIPv6(text[..field.Length], out address);
    }

    private static bool TryParseV1Port(ReadOnlySpan<byte> field, out int port)
    {
        port = 0;
        if (field.Length > 5) return false;
        Span<char> text = stackalloc char[5];
        for (int i = 0; i < field.Length; i++) text[i] = (char)field[i];
        return IPAddressText.TryParsePort(text[..field.Length], out port);
    }

    private static ProxyHeaderParseResult ParseV2(ReadOnlySpan<byte> bytes)
    {
        int signature = Math.Min(bytes.Length, V2Signature.Length);
        if (!bytes[..signature].SequenceEqual(V2Signature[..signature])) return ProxyHeaderParseResult.Invalid(0, "no PROXY protocol header");
        if (bytes.Length <= V2Signature.Length) return ProxyHeaderParseResult.NeedMoreData(bytes.Length);

        // Section 2.2: the version "must always be sent as \x2 and the receiver must only accept this value";
        // other commands than LOCAL and PROXY: "receivers must drop connections presenting unexpected values".
        int versionCommand = bytes[12];
        if (versionCommand >> 4 != 2) return ProxyHeaderParseResult.Invalid(2, "PROXY v2 signature with another version");
        int command = versionCommand & 0xF;
        if (command is not (CommandLocal or CommandProxy)) return ProxyHeaderParseResult.Invalid(2, "PROXY v2 command is neither LOCAL nor PROXY");
        if (bytes.Length < V2FixedLength) return ProxyHeaderParseResult.NeedMoreData(bytes.Length);

        int addressLength = BinaryPrimitives.ReadUInt16BigEndian(bytes[14..]);
        if (addressLength > MaxV2AddressLength) return ProxyHeaderParseResult.Invalid(2, "PROXY v2 header longer than 1040 bytes");
        int length = V2FixedLength + addressLength;
        if (bytes.Length < length) return ProxyHeaderParseResult.NeedMoreData(bytes.Length);

        // LOCAL (a proxy's health check): "use the real connection endpoints and discard the protocol block including the family".
        if (command == CommandLocal) return ProxyHeaderParseResult.Local(2, length);

        int family = bytes[13] >> 4;
        int transport = bytes[13] & 0xF;
        if (family > FamilyUnix || transport > TransportDgram) return ProxyHeaderParseResult.Invalid(2, "PROXY v2 address family or transport out of range");
        var block = bytes.Slice(V2FixedLength, addressLength);
        // Only TCP carries a client address this server can use; UNSPEC, UNIX and UDP fall back to the
        // connection's own endpoints, as the spec allows a receiver that does not implement them. TLVs after
        // the addresses are skipped: the length field already covers them.
        if (transport != TransportStream || family is not (FamilyInet or FamilyInet6)) return ProxyHeaderParseResult.Local(2, length);
        if (family == FamilyInet)
        {
            if (addressLength < Inet4AddressLength) return ProxyHeaderParseResult.Invalid(2, "PROXY v2 TCP4 address block shorter than 12 bytes");
            return ProxyHeaderParseResult.Proxied(2, length,
                new IPEndPoint(new IPAddress(block[..4]), BinaryPrimitives.ReadUInt16BigEndian(block[8..])),
                new IPEndPoint(new IPAddress(block[4..8]), BinaryPrimitives.ReadUInt16BigEndian(block[10..])));
        }
        if (addressLength < Inet6AddressLength) return ProxyHeaderParseResult.Invalid(2, "PROXY v2 TCP6 address block shorter than 36 bytes");
        return ProxyHeaderParseResult.Proxied(2, length,
            new IPEndPoint(new IPAddress(block[..16]), BinaryPrimitives.ReadUInt16BigEndian(block[32..])),
            new IPEndPoint(new IPAddress(block[16..32]), BinaryPrimitives.ReadUInt16BigEndian(block[34..])));
    }
}
