using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mtt.Tests.ClientAddress;

/// <summary>PROXY protocol headers as HAProxy and nginx write them (haproxy's doc/proxy-protocol.txt), and broken ones.</summary>
public static class ProxyHeaders
{
    public static readonly byte[] V2Signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    public static byte[] V1(string line) => Encoding.ASCII.GetBytes(line);

    /// <summary>A v1 line for TCP over the endpoints' family.</summary>
    public static byte[] V1(IPEndPoint source, IPEndPoint destination) =>
        V1($"PROXY {(source.AddressFamily == AddressFamily.InterNetwork ? "TCP4" : "TCP6")} {source.Address} {destination.Address} {source.Port} {destination.Port}\r\n");

    /// <summary>A v2 PROXY command for TCP over the endpoints' family, with optional TLVs after the addresses.</summary>
    public static byte[] V2(IPEndPoint source, IPEndPoint destination, byte[]? tlvs = null)
    {
        bool v4 = source.AddressFamily == AddressFamily.InterNetwork;
        var block = new List<byte>();
        block.AddRange(source.Address.GetAddressBytes());
        block.AddRange(destination.Address.GetAddressBytes());
        block.Add((byte)(source.Port >> 8));
        block.Add((byte)source.Port);
        block.Add((byte)(destination.Port >> 8));
        block.Add((byte)destination.Port);
        if (tlvs is not null) block.AddRange(tlvs);
        return V2Raw(0x21, v4 ? (byte)0x11 : (byte)0x21, [.. block]);
    }

    /// <summary>A v2 header with any version/command and family bytes, and the length field set to the block's length.</summary>
    public static byte[] V2Raw(byte versionCommand, byte family, byte[] block, int? lengthField = null)
    {
        var header = new byte[16 + block.Length];
        V2Signature.CopyTo(header, 0);
        header[12] = versionCommand;
        header[13] = family;
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(14), (ushort)(lengthField ?? block.Length));
        block.CopyTo(header, 16);
        return header;
    }

    /// <summary>One TLV: type, 2-byte big-endian length, value.</summary>
    public static byte[] Tlv(byte type, byte[] value) => [type, (byte)(value.Length >> 8), (byte)value.Length, .. value];
}
