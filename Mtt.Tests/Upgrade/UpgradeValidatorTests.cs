using Mtt.Core.Upgrade;
using static Mtt.Tests.Upgrade.RequestHeads;

namespace Mtt.Tests.Upgrade;

public class UpgradeValidatorTests
{
    private static int Validate(string head, out string? reason)
    {
        var request = Parse(head).Request!;
        return UpgradeValidator.Validate(request, out reason);
    }

    [Fact]
    public void GoClientRequest_IsValid()
    {
        Assert.Equal(0, Validate(GoClient, out string? reason));
        Assert.Null(reason);
    }

    [Theory]
    [InlineData("Connection: keep-alive, Upgrade")]
    [InlineData("Connection: Upgrade\r\nConnection: keep-alive")]
    public void ConnectionTokenLists_AreValid(string connection)
    {
        string head = "GET /p HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n" + connection +
                      "\r\nSec-WebSocket-Key: " + RfcExampleKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
        Assert.Equal(0, Validate(head, out _));
    }

    [Theory]
    [InlineData("Sec-WebSocket-Version: 8\r\n")]
    [InlineData("Sec-WebSocket-Version: 13, 8\r\n")]
    [InlineData("Sec-WebSocket-Version: 013\r\n")]
    [InlineData("")]
    public void VersionMissingOrNot13_Gets426(string version)
    {
        string head = "GET /p HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " +
                      RfcExampleKey + "\r\n" + version + "\r\n";
        Assert.Equal(426, Validate(head, out string? reason));
        Assert.NotNull(reason);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Upgrade: h2c\r\n")]
    public void UpgradeLacksWebSocket_Gets426(string upgrade)
    {
        string head = "GET /p HTTP/1.1\r\nHost: h\r\n" + upgrade + "Connection: Upgrade\r\nSec-WebSocket-Key: " +
                      RfcExampleKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
        Assert.Equal(426, Validate(head, out _));
    }

    [Fact]
    public void PlainBrowserGet_Gets426()
    {
        Assert.Equal(426, Validate("GET /p HTTP/1.1\r\nHost: h\r\nAccept: text/html\r\n\r\n", out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Connection: keep-alive\r\n")]
    [InlineData("Connection: close\r\n")]
    public void ConnectionLacksUpgrade_Gets400(string connection)
    {
        string head = "GET /p HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n" + connection + "Sec-WebSocket-Key: " +
                      RfcExampleKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
        Assert.Equal(400, Validate(head, out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("dGhlIHNhbXBsZSBub25jZQ")]
    [InlineData("dGhlIHNhbXBsZSBub25jZQ=")]
    [InlineData("dGhlIHNhbXBsZSBub25jZQ===")]
    [InlineData("dGhlIHNhbXBsZSBub25jZ===")]
    [InlineData("dGhlIHNhbXBsZSBub25jZQ==dGhl")]
    [InlineData("dGhlIHNhbXBsZSBub25j")]
    [InlineData("dGhlIHNhbXBsZSBub25jZQA=")]
    [InlineData("dGhlIHNhbXBs ZSBub25jZQ=")]
    [InlineData("dGhlIHNhbXBsZSBub25jZ-==")]
    [InlineData("dGhlIHNhbXBsZSBub25jZ_==")]
    [InlineData("dGhlIHNhbXBsZSBub25jZSBzaXh0ZWVu")]
    public void KeyMissingOrNotBase64Of16Bytes_Gets400(string? key)
    {
        string keyLine = key is null ? "" : "Sec-WebSocket-Key: " + key + "\r\n";
        string head = "GET /p HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + keyLine +
                      "Sec-WebSocket-Version: 13\r\n\r\n";
        Assert.Equal(400, Validate(head, out string? reason));
        Assert.NotNull(reason);
    }

    [Theory]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA==")]
    [InlineData("/////////////////////w==")]
    [InlineData("+/+/+/+/+/+/+/+/+/+/+A==")]
    public void OtherWellFormedKeys_AreValid(string key)
    {
        Assert.Equal(0, Validate(With(extraHeaders: "").Replace(RfcExampleKey, key), out _));
    }

    [Theory]
    [InlineData("Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n")]
    [InlineData("Sec-WebSocket-Version: 13\r\n")]
    public void DuplicatedKeyOrVersion_Gets400(string duplicate)
    {
        Assert.Equal(400, Validate(With(extraHeaders: duplicate), out string? reason));
        Assert.NotNull(reason);
    }
}
