using System.Buffers;
using System.Net;
using System.Text;
using Mtt.Core.ClientAddress;
using Mtt.Tests.Support;

namespace Mtt.Tests.ClientAddress;

public sealed class ProxyHeaderParserTests
{
    private static readonly byte[] FollowingBytes = Encoding.ASCII.GetBytes("GET /u HTTP/1.1\r\n");

    private static ProxyHeaderParseResult ParseFollowed(byte[] header) => ProxyHeaderParser.Parse([.. header, .. FollowingBytes]);

    private static void AssertInvalid(byte[] input)
    {
        var result = ProxyHeaderParser.Parse(input);
        Assert.Equal(ProxyHeaderParseStatus.Invalid, result.Status);
        Assert.False(string.IsNullOrEmpty(result.Reason));
        Assert.Equal(0, result.Length);
    }

    [Fact]
    public void V1Tcp4_GivesSourceAndDestination_AndStopsAtTheCrlf()
    {
        var header = ProxyHeaders.V1("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
        var result = ParseFollowed(header);
        Assert.Equal(ProxyHeaderParseStatus.Complete, result.Status);
        Assert.Equal(header.Length, result.Length);
        Assert.Equal(1, result.Version);
        Assert.Equal(IPEndPoint.Parse("192.168.0.1:56324"), result.Source);
        Assert.Equal(IPEndPoint.Parse("192.168.0.11:443"), result.Destination);
    }

    [Fact]
    public void V1Tcp4_LongestAddressesAndPorts()
    {
        var result = ProxyHeaderParser.Parse(ProxyHeaders.V1("PROXY TCP4 255.255.255.255 0.0.0.0 65535 0\r\n"));
        Assert.Equal(IPEndPoint.Parse("255.255.255.255:65535"), result.Source);
        Assert.Equal(IPEndPoint.Parse("0.0.0.0:0"), result.Destination);
    }

    [Theory]
    [InlineData("2001:db8::7", "2001:db8::1")]
    [InlineData("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF")]
    [InlineData("::ffff:203.0.113.7", "::1")]
    public void V1Tcp6_GivesSourceAndDestination(string source, string destination)
    {
        var header = ProxyHeaders.V1($"PROXY TCP6 {source} {destination} 51234 8443\r\n");
        var result = ParseFollowed(header);
        Assert.Equal(ProxyHeaderParseStatus.Complete, result.Status);
        Assert.Equal(header.Length, result.Length);
        Assert.Equal(new IPEndPoint(IPAddress.Parse(source), 51234), result.Source);
        Assert.Equal(new IPEndPoint(IPAddress.Parse(destination), 8443), result.Destination);
    }

    [Theory]
    [InlineData("PROXY UNKNOWN\r\n")]
    [InlineData("PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n")]
    [InlineData("PROXY UNKNOWN anything at all, ignored\r\n")]
    public void V1Unknown_IsCompleteWithoutAddresses(string line)
    {
        var header = ProxyHeaders.V1(line);
        Assert.True(header.Length <= ProxyHeaderParser.MaxV1Length);
        var result = ParseFollowed(header);
        Assert.Equal(ProxyHeaderParseStatus.Complete, result.Status);
        Assert.Equal(header.Length, result.Length);
        Assert.Null(result.Source);
        Assert.Null(result.Destination);
    }

    [Theory]
    [InlineData("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n")]
    [InlineData("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n")]
    [InlineData("PROXY UNKNOWNX\r\n")]
    [InlineData("PROXY TCP4\r\n")]
    [InlineData("PROXY \r\n")]
    [InlineData("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n")]
    [InlineData("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n")]
    [InlineData("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n")]
    [InlineData("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n")]
    [InlineData("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n")]
    [InlineData("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n")]
    [InlineData("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n")]
    [InlineData("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n")]
    [InlineData("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n")]
    [InlineData("PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n")]
    [InlineData("PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n")]
    [InlineData("PROXY TCP4 1 5.6.7.8 1 2\r\n")]
    [InlineData("PROXY TCP4 0x7f.0.0.1 5.6.7.8 1 2\r\n")]
    [InlineData("PROXY TCP4 ::1 5.6.7.8 1 2\r\n")]
    [InlineData("PROXY TCP6 1.2.3.4 ::1 1 2\r\n")]
    [InlineData("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n")]
    [InlineData("PROXY TCP6 2001:db8::g ::1 1 2\r\n")]
    [InlineData("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n")]
    [InlineData("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n")]
    [InlineData("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n")]
    [InlineData("PROXY TCP4 1.2.3.4 5.6.7.8 1 +2\r\n")]
    [InlineData("PROXY TCP4 1.2.3.4 5.6.7.8 1 999999\r\n")]
    public void V1Malformed_IsInvalid(string line) => AssertInvalid(ProxyHeaders.V1(line));

    [Theory]
    [InlineData("GET /u HTTP/1.1\r\n")]
    [InlineData("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n")]
    [InlineData("PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n")]
    [InlineData("\r\n\r\nGET")]
    public void NoSignature_IsInvalid(string text) => AssertInvalid(Encoding.ASCII.GetBytes(text));

    [Fact]
    public void TlsClientHello_IsInvalidAtItsFirstByte() => AssertInvalid([0x16]);

    [Theory]
    [InlineData("PRX")]
    [InlineData("PROXX")]
    [InlineData("PROXY\r")]
    public void V1WrongPrefix_IsRefusedBeforeTheLineEnds(string text) => AssertInvalid(Encoding.ASCII.GetBytes(text));

    [Fact]
    public void V1LineWithoutCrlfIn107Bytes_IsInvalid_AndOneByteLessStillWaits()
    {
        byte[] line = ProxyHeaders.V1("PROXY UNKNOWN " + new string('f', 200));
        Assert.Equal(ProxyHeaderParseStatus.NeedMoreData, ProxyHeaderParser.Parse(line.AsSpan(0, ProxyHeaderParser.MaxV1Length - 1)).Status);
        AssertInvalid(line[..ProxyHeaderParser.MaxV1Length]);
        AssertInvalid(line);
    }

    [Fact]
    public void V1CrlfAtExactly107Bytes_IsComplete()
    {
        string line = "PROXY UNKNOWN " + new string('f', ProxyHeaderParser.MaxV1Length - 16) + "\r\n";
        Assert.Equal(ProxyHeaderParser.MaxV1Length, line.Length);
        Assert.Equal(ProxyHeaderParseStatus.Complete, ProxyHeaderParser.Parse(ProxyHeaders.V1(line)).Status);
        AssertInvalid(ProxyHeaders.V1("PROXY UNKNOWN " + new string('f', ProxyHeaderParser.MaxV1Length - 15) + "\r\n"));
    }

    [Fact]
    public void V2ProxyIPv4_GivesSourceAndDestination()
    {
        var header = ProxyHeaders.V2(IPEndPoint.Parse("203.0.113.7:51234"), IPEndPoint.Parse("198.51.100.1:443"));
        Assert.Equal(28, header.Length);
        var result = ParseFollowed(header);
        Assert.Equal(ProxyHeaderParseStatus.Complete, result.Status);
        Assert.Equal(28, result.Length);
        Assert.Equal(2, result.Version);
        Assert.Equal(IPEndPoint.Parse("203.0.113.7:51234"), result.Source);
        Assert.Equal(IPEndPoint.Parse("198.51.100.1:443"), result.Destination);
    }

    [Fact]
    public void V2ProxyIPv6_GivesSourceAndDestination()
    {
        var header = ProxyHeaders.V2(IPEndPoint.Parse("[2001:db8::7]:65535"), IPEndPoint.Parse("[2001:db8::1]:8443"));
        Assert.Equal(52, header.Length);
        var result = ParseFollowed(header);
        Assert.Equal(52, result.Length);
        Assert.Equal(IPEndPoint.Parse("[2001:db8::7]:65535"), result.Source);
        Assert.Equal(IPEndPoint.Parse("[2001:db8::1]:8443"), result.Destination);
    }

    [Fact]
    public void V2Tlvs_AreSkipped_AndCountInTheLength()
    {
        byte[] tlvs =
        [
            .. ProxyHeaders.Tlv(0x01, "http/1.1"u8.ToArray()),
            .. ProxyHeaders.Tlv(0x02, "tunnel.example.com"u8.ToArray()),
            .. ProxyHeaders.Tlv(0x20, [0x01, 0, 0, 0, 0, .. ProxyHeaders.Tlv(0x21, "TLSv1.3"u8.ToArray())]),
            .. ProxyHeaders.Tlv(0x04, []),
            .. ProxyHeaders.Tlv(0xEA, [0x01, .. "vpce-0123456789abcdef"u8.ToArray()]),
        ];
        var header = ProxyHeaders.V2(IPEndPoint.Parse("203.0.113.7:51234"), IPEndPoint.Parse("198.51.100.1:443"), tlvs);
        var result = ParseFollowed(header);
        Assert.Equal(ProxyHeaderParseStatus.Complete, result.Status);
        Assert.Equal(header.Length, result.Length);
        Assert.Equal(IPEndPoint.Parse("203.0.113.7:51234"), result.Source);
    }

    [Theory]
    [InlineData(0x20, 0x00, 0)]   // LOCAL, AF_UNSPEC, no addresses: a health check
    [InlineData(0x20, 0x11, 12)]  // LOCAL with addresses: they are ignored
    [InlineData(0x20, 0xFF, 5)]   // LOCAL: even the family byte is ignored
    [InlineData(0x21, 0x00, 0)]   // PROXY, AF_UNSPEC
    [InlineData(0x21, 0x31, 216)] // PROXY, UNIX stream
    [InlineData(0x21, 0x32, 216)] // PROXY, UNIX datagram
    [InlineData(0x21, 0x12, 12)]  // PROXY, UDP over IPv4
    [InlineData(0x21, 0x22, 36)]  // PROXY, UDP over IPv6
    public void V2LocalAndUnsupportedFamilies_AreCompleteWithoutAddresses(byte versionCommand, byte family, int blockLength)
    {
        var header = ProxyHeaders.V2Raw(versionCommand, family, new byte[blockLength]);
        var result = ParseFollowed(header);
        Assert.Equal(ProxyHeaderParseStatus.Complete, result.Status);
        Assert.Equal(header.Length, result.Length);
        Assert.Null(result.Source);
    }

    [Theory]
    [InlineData(0x11, 0x11, 12)] // version 1 in the binary form
    [InlineData(0x31, 0x11, 12)] // version 3
    [InlineData(0x22, 0x11, 12)] // command 2
    [InlineData(0x2F, 0x11, 12)] // command 15
    [InlineData(0x21, 0x41, 12)] // family 4
    [InlineData(0x21, 0x13, 12)] // transport 3
    [InlineData(0x21, 0x11, 11)] // TCP4 block too short for its addresses
    [InlineData(0x21, 0x21, 35)] // TCP6 block too short for its addresses
    [InlineData(0x21, 0x21, 12)]
    public void V2Malformed_IsInvalid(byte versionCommand, byte family, int blockLength) =>
        AssertInvalid([.. ProxyHeaders.V2Raw(versionCommand, family, new byte[blockLength]), .. FollowingBytes]);

    [Fact]
    public void V2LengthOverTheBound_IsInvalid_BeforeTheBytesArrive()
    {
        AssertInvalid(ProxyHeaders.V2Raw(0x21, 0x11, [], lengthField: ProxyHeaderParser.MaxV2AddressLength + 1));
        AssertInvalid(ProxyHeaders.V2Raw(0x21, 0x11, [], lengthField: ushort.MaxValue));
        var longest = ProxyHeaders.V2Raw(0x21, 0x11, new byte[ProxyHeaderParser.MaxV2AddressLength]);
        Assert.Equal(ProxyHeaderParser.MaxHeaderLength, longest.Length);
        Assert.Equal(ProxyHeaderParseStatus.Complete, ProxyHeaderParser.Parse(longest).Status);
    }

    [Fact]
    public void V2BadSignature_IsInvalidAtTheFirstWrongByte()
    {
        for (int i = 1; i < ProxyHeaders.V2Signature.Length; i++)
        {
            byte[] prefix = ProxyHeaders.V2Signature[..(i + 1)];
            prefix[i] ^= 0x40;
            AssertInvalid(prefix);
        }
    }

    public static TheoryData<string, byte[]> ValidHeaders() => new()
    {
        { "v1 TCP4", ProxyHeaders.V1("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n") },
        { "v1 TCP6", ProxyHeaders.V1("PROXY TCP6 2001:db8::7 2001:db8::1 51234 443\r\n") },
        { "v1 UNKNOWN", ProxyHeaders.V1("PROXY UNKNOWN\r\n") },
        { "v2 TCP4", ProxyHeaders.V2(IPEndPoint.Parse("203.0.113.7:51234"), IPEndPoint.Parse("198.51.100.1:443")) },
        { "v2 TCP6 TLV", ProxyHeaders.V2(IPEndPoint.Parse("[2001:db8::7]:1"), IPEndPoint.Parse("[::1]:2"), ProxyHeaders.Tlv(0x05, new byte[128])) },
        { "v2 LOCAL", ProxyHeaders.V2Raw(0x20, 0x00, []) },
    };

    [Theory]
    [MemberData(nameof(ValidHeaders))]
    public void SplitByteByByte_WaitsUntilTheLastByte_WhateverTheSegments(string name, byte[] header)
    {
        var whole = ProxyHeaderParser.Parse(header);
        Assert.True(whole.Status == ProxyHeaderParseStatus.Complete, name);
        for (int cut = 0; cut < header.Length; cut++)
        {
            var partial = ProxyHeaderParser.Parse(header.AsSpan(0, cut));
            Assert.True(partial.Status == ProxyHeaderParseStatus.NeedMoreData, $"{name}: {partial.Status} after {cut} bytes");
            Assert.Equal(cut, partial.Length);
        }

        byte[] followed = [.. header, .. FollowingBytes];
        var oneBytePerSegment = ProxyHeaderParser.Parse(SegmentedSequence.Chunked(followed, 1));
        Assert.Equal(whole.Length, oneBytePerSegment.Length);
        Assert.Equal(whole.Source, oneBytePerSegment.Source);
        Assert.Equal(whole.Destination, oneBytePerSegment.Destination);
        var twoSegments = ProxyHeaderParser.Parse(SegmentedSequence.SplitAt(followed, header.Length / 2));
        Assert.Equal(whole.Length, twoSegments.Length);
        Assert.Equal(whole.Source, twoSegments.Source);
    }

    [Fact]
    public void Empty_NeedsMoreData() => Assert.Equal(ProxyHeaderParseStatus.NeedMoreData, ProxyHeaderParser.Parse(ReadOnlySequence<byte>.Empty).Status);
}
