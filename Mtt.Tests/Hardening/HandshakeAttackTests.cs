using Mtt.Core.Transport;
using System.Diagnostics;
using System.Text;
using Mtt.Tests.Support;

namespace Mtt.Tests.Hardening;

/// <summary>
/// Hostile or broken upgrade requests over raw sockets against the real listener: each gets its
/// status and a closed connection, and the server serves a normal client right after.
/// </summary>
public class HandshakeAttackTests
{
    private static readonly string GoodHead = RawWebSocketClient.GoClientHead(AttackedServer.UserPath);

    private static string Without(string headerName) =>
        string.Join("\r\n", GoodHead.Split("\r\n").Where(line => !line.StartsWith(headerName + ":", StringComparison.Ordinal)));

    private static string WithExtra(string headerLine) => GoodHead[..^2] + headerLine + "\r\n\r\n";

    private static string Replaced(string oldText, string newText) => GoodHead.Replace(oldText, newText, StringComparison.Ordinal);

    public static TheoryData<string, string, int> RefusedHeads => new()
    {
        { "garbage bytes", "\u0001\u00ff\u0000garbage\r\n\r\n", 400 },
        { "garbage line", "hello there\r\n\r\n", 400 },
        { "HTTP/1.0 upgrade", Replaced("HTTP/1.1", "HTTP/1.0"), 400 },
        { "missing Upgrade", Without("Upgrade"), 426 },
        { "missing Connection", Without("Connection"), 400 },
        { "missing Sec-WebSocket-Key", Without("Sec-WebSocket-Key"), 400 },
        { "missing Sec-WebSocket-Version", Without("Sec-WebSocket-Version"), 426 },
        { "missing Host", Without("Host"), 400 },
        { "duplicated Sec-WebSocket-Key", WithExtra("Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=="), 400 },
        { "duplicated Sec-WebSocket-Version", WithExtra("Sec-WebSocket-Version: 13"), 400 },
        { "duplicated Host", WithExtra("Host: other"), 400 },
        { "version 8", Replaced("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"), 426 },
        { "POST", Replaced("GET ", "POST "), 405 },
        { "PUT", Replaced("GET ", "PUT "), 405 },
        { "DELETE", Replaced("GET ", "DELETE "), 405 },
        { "HEAD", Replaced("GET ", "HEAD "), 405 },
        { "OPTIONS", Replaced("GET ", "OPTIONS "), 405 },
        { "lower-case get", Replaced("GET ", "get "), 405 },
        { "key without padding", Replaced("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ"), 400 },
        { "key of 15 bytes", Replaced("dGhlIHNhbXBsZSBub25jZQ==", "AAAAAAAAAAAAAAAAAAAA"), 400 },
        { "key of 17 bytes", Replaced("dGhlIHNhbXBsZSBub25jZQ==", "AAAAAAAAAAAAAAAAAAAAAAA="), 400 },
        { "key not base64", Replaced("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZ-=="), 400 },
        { "empty key", Replaced("dGhlIHNhbXBsZSBub25jZQ==", ""), 400 },
        { "unknown path, bad headers", Replaced("GET /u ", "GET /nobody ").Replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"), 404 },
        { "request line over 8 KiB", Replaced("GET /u ", $"GET /{new string('a', 9000)} "), 431 },
        { "one header over 8 KiB", WithExtra($"X-Big: {new string('b', 9000)}"), 431 },
        { "65 headers", WithExtra(string.Join("\r\n", Enumerable.Range(0, 60).Select(i => $"X-H{i}: v"))), 431 },
        { "head over 8 KiB in small headers", WithExtra(string.Join("\r\n", Enumerable.Range(0, 40).Select(i => $"X-H{i}: {new string('c', 250)}"))), 431 },
    };

    [Theory]
    [MemberData(nameof(RefusedHeads))]
    public async Task BadHead_GetsItsStatus_IsClosed_AndTheServerServesTheNextClient(string attack, string head, int status)
    {
        await using var server = AttackedServer.Start();

        await server.AssertRefusedAsync(head, status);

        Assert.True(server.BackendConnections == 0, $"{attack}: a backend was dialled");
        await server.AssertServesANormalClientAsync();
    }

    [Fact]
    public async Task HeadWithBareLfLineEnds_IsUpgradedAtOnce()
    {
        // Go's net/http, which the original server used, ends head lines at LF with or without CR (RFC 9112 2.2).
        await using var server = AttackedServer.Start();
        await using var client = await server.ConnectAsync();

        await client.SendRawAsync(GoodHead.Replace("\r\n", "\n", StringComparison.Ordinal)).WaitAsync(AttackedServer.Bound);
        var (status, head) = await client.ReadResponseHeadAsync().WaitAsync(AttackedServer.Bound);

        Assert.True(status == 101, head);
        await client.AssertEchoesThenClosesAsync("bare LF head", AttackedServer.Bound);
    }

    [Fact]
    public async Task TlsClientHello_OnAPlainListener_Gets400_AndIsClosed()
    {
        await using var server = AttackedServer.Start();
        // The start of a TLS 1.2/1.3 ClientHello record: handshake (0x16), version 3.1, length, ClientHello (0x01).
        byte[] hello = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, .. new byte[32], 0x20, .. new byte[32], 0x00, 0x02, 0x13, 0x01];

        await server.AssertRefusedAsync(hello, 400);

        await server.AssertServesANormalClientAsync();
    }

    [Theory]
    [MemberData(nameof(TlsEngines.Both), MemberType = typeof(TlsEngines))]
    public async Task PlainHttp_OnATlsListener_IsClosedWithoutAnAnswer(TlsEngine engine)
    {
        await using var server = AttackedServer.Start(tls: true, engine: engine);
        await using var client = await server.ConnectTcpAsync();

        await client.SendRawAsync(GoodHead);

        Assert.Empty(await StreamReading.ReadToEndAsync(client.Stream).WaitAsync(AttackedServer.Bound));
        await server.AssertServesANormalClientAsync();
    }

    [Theory]
    [MemberData(nameof(TlsEngines.Both), MemberType = typeof(TlsEngines))]
    public async Task StalledTlsHandshake_IsDropped_ByTheHandshakeTimeout(TlsEngine engine)
    {
        var timeout = TimeSpan.FromMilliseconds(300);
        await using var server = AttackedServer.Start(timeout, tls: true, engine: engine);
        var clock = Stopwatch.StartNew();
        await using var client = await server.ConnectTcpAsync();

        // Half a ClientHello record, then nothing.
        await client.SendRawAsync([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]);

        Assert.Empty(await StreamReading.ReadToEndAsync(client.Stream).WaitAsync(AttackedServer.Bound));
        Assert.True(clock.Elapsed >= timeout * 0.9, $"dropped after {clock.Elapsed}, before the timeout");
        await server.AssertServesANormalClientAsync();
    }

    [Theory]
    [InlineData("Upgrade: websocket")]
    [InlineData("Connection: Upgrade")]
    public async Task DuplicatedTokenListHeader_IsOneList_AndTheUpgradeSucceeds(string duplicate)
    {
        // RFC 9110 section 5.3: repeated list-valued fields are one comma-separated list.
        await using var server = AttackedServer.Start();
        await using var client = await server.ConnectAsync();

        await client.SendRawAsync(WithExtra(duplicate));
        var (status, head) = await client.ReadResponseHeadAsync().WaitAsync(AttackedServer.Bound);

        Assert.True(status == 101, head);
        await server.AssertServesANormalClientAsync();
    }

    [Fact]
    public async Task StalledHead_IsDroppedSilently_ByTheHandshakeTimeout()
    {
        var timeout = TimeSpan.FromMilliseconds(300);
        await using var server = AttackedServer.Start(timeout);
        // Started before the connection exists, so the server's timer cannot have started before it.
        var clock = Stopwatch.StartNew();
        await using var client = await server.ConnectAsync();

        await client.SendRawAsync(GoodHead[..40]);
        byte[] answered = await StreamReading.ReadToEndAsync(client.Stream).WaitAsync(AttackedServer.Bound);

        Assert.Empty(answered);
        Assert.True(clock.Elapsed >= timeout * 0.9, $"dropped after {clock.Elapsed}, before the timeout");
        await server.AssertServesANormalClientAsync();
    }

    [Fact]
    public async Task SlowlyDrippedHead_IsDropped_ByTheHandshakeTimeout_NotByItsSize()
    {
        var timeout = TimeSpan.FromMilliseconds(300);
        await using var server = AttackedServer.Start(timeout);
        // Started before the connection exists, so the server's timer cannot have started before it.
        var clock = Stopwatch.StartNew();
        await using var client = await server.ConnectAsync();
        var end = StreamReading.ReadToEndAsync(client.Stream);
        // An endless head, one byte every 20 ms: each byte is progress, but the head never completes.
        byte[] drip = Encoding.ASCII.GetBytes(GoodHead[..^4] + "\r\nX-Drip: " + new string('d', 4096));
        int sent = 0;

        while (!end.IsCompleted && clock.Elapsed < AttackedServer.Bound)
        {
            try { await client.Stream.WriteAsync(drip.AsMemory(sent++ % drip.Length, 1)); }
            catch (IOException) { break; }
            await Task.WhenAny(end, Task.Delay(20));
        }
        byte[] answered = await end.WaitAsync(AttackedServer.Bound);

        Assert.Empty(answered);
        Assert.True(sent < 4096, $"{sent} bytes dripped: the size bound, not the timeout, would have stopped it");
        Assert.True(clock.Elapsed >= timeout * 0.9, $"dropped after {clock.Elapsed}, before the timeout");
        await server.AssertServesANormalClientAsync();
    }
}
