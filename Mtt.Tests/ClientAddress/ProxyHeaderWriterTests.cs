using System.Net;
using System.Text;
using Mtt.Core.ClientAddress;

namespace Mtt.Tests.ClientAddress;

/// <summary>The PROXY header's exact bytes, against haproxy's proxy-protocol.txt (sections 2.1 and 2.2).</summary>
public sealed class ProxyHeaderWriterTests
{
    // Section 2.2: the v2 signature, "\r\n\r\n\0\r\nQUIT\n".
    private static readonly byte[] Signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    private static IPEndPoint At(string address, int port) => new(IPAddress.Parse(address), port);

    private static string V1(IPEndPoint? client, IPEndPoint? server) =>
        Encoding.ASCII.GetString(ProxyHeaderWriter.Create(ProxyHeaderVersion.V1, client, server));

    private static byte[] V2(IPEndPoint? client, IPEndPoint? server) => ProxyHeaderWriter.Create(ProxyHeaderVersion.V2, client, server);

    [Fact]
    public void V1_Ipv4_IsTheSpecsExampleLine()
    {
        Assert.Equal("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", V1(At("192.168.0.1", 56324), At("192.168.0.11", 443)));
    }

    [Fact]
    public void V1_Ipv6_IsATcp6LineWithCompressedAddresses()
    {
        Assert.Equal("PROXY TCP6 2001:db8::1 2001:db8::2:0 1234 8443\r\n", V1(At("2001:db8::1", 1234), At("2001:db8::2:0", 8443)));
    }

    [Fact]
    public void V1_Ipv4MappedAddresses_AreWrittenAsIpv4()
    {
        Assert.Equal("PROXY TCP4 10.0.0.1 127.0.0.1 40000 443\r\n", V1(At("::ffff:10.0.0.1", 40000), At("::ffff:127.0.0.1", 443)));
    }

    [Fact]
    public void V1_Ipv4ClientOnAnIpv6Address_IsWrittenMappedInATcp6Line()
    {
        Assert.Equal("PROXY TCP6 ::ffff:10.0.0.1 2001:db8::2 40000 443\r\n", V1(At("10.0.0.1", 40000), At("2001:db8::2", 443)));
    }

    [Fact]
    public void V1_ScopeId_IsLeftOut()
    {
        var client = new IPEndPoint(IPAddress.Parse("fe80::1%2"), 5000);
        var server = new IPEndPoint(IPAddress.Parse("fe80::2%2"), 443);
        Assert.Equal("PROXY TCP6 fe80::1 fe80::2 5000 443\r\n", V1(client, server));
    }

    [Fact]
    public void V1_LongestLine_FitsTheSpecsBound()
    {
        const string widest = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe";
        string line = V1(At(widest, 65535), At(widest, 65535));
        Assert.Equal($"PROXY TCP6 {widest} {widest} 65535 65535\r\n", line);
        Assert.True(line.Length <= ProxyHeaderWriter.MaxV1Length);
    }

    [Fact]
    public void V1_UnknownAddresses_SayUnknown()
    {
        Assert.Equal("PROXY UNKNOWN\r\n", V1(null, null));
        Assert.Equal("PROXY UNKNOWN\r\n", V1(At("10.0.0.1", 1), null));
        Assert.Equal("PROXY UNKNOWN\r\n", V1(null, At("10.0.0.1", 1)));
    }

    [Fact]
    public void V2_Ipv4_IsSignatureProxyCommandTcp4AndTwelveAddressBytes()
    {
        byte[] expected =
        [
            .. Signature,
            0x21,       // version 2, PROXY
            0x11,       // AF_INET, STREAM
            0x00, 0x0C, // 12 bytes of addresses
            192, 168, 0, 1,
            192, 168, 0, 11,
            0xDC, 0x04, // 56324
            0x01, 0xBB, // 443
        ];
        Assert.Equal(expected, V2(At("192.168.0.1", 56324), At("192.168.0.11", 443)));
    }

    [Fact]
    public void V2_Ipv6_IsSignatureProxyCommandTcp6AndThirtySixAddressBytes()
    {
        byte[] expected =
        [
            .. Signature,
            0x21,       // version 2, PROXY
            0x21,       // AF_INET6, STREAM
            0x00, 0x24, // 36 bytes of addresses
            0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
            0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
            0x04, 0xD2, // 1234
            0xFF, 0xFF, // 65535
        ];
        byte[] header = V2(At("2001:db8::1", 1234), At("2001:db8::2", 65535));
        Assert.Equal(expected, header);
        Assert.Equal(ProxyHeaderWriter.MaxV2Length, header.Length);
    }

    [Fact]
    public void V2_Ipv4MappedAddresses_AreWrittenAsIpv4()
    {
        Assert.Equal(V2(At("10.0.0.1", 40000), At("127.0.0.1", 443)), V2(At("::ffff:10.0.0.1", 40000), At("::ffff:127.0.0.1", 443)));
        Assert.Equal(0x11, V2(At("::ffff:10.0.0.1", 40000), At("::ffff:127.0.0.1", 443))[13]);
    }

    [Fact]
    public void V2_UnknownAddresses_AreTheLocalCommandWithNoAddressBlock()
    {
        byte[] expected = [.. Signature, 0x20, 0x00, 0x00, 0x00];
        Assert.Equal(expected, V2(null, null));
        Assert.Equal(expected, V2(At("10.0.0.1", 1), null));
    }

    [Fact]
    public void None_IsNoBytes()
    {
        Assert.Empty(ProxyHeaderWriter.Create(ProxyHeaderVersion.None, At("10.0.0.1", 1), At("10.0.0.2", 2)));
    }
}
