using System.Buffers.Binary;
using Mtt.Tests.Support;

namespace Mtt.Tests.Hardening;

/// <summary>
/// Every frame violation of RFC 6455 section 5 sent by an upgraded client: the server closes with its
/// code, ends the connection, and serves a normal client right after. (An unmasked frame is covered,
/// with the same assertions, by TunnelEndToEndTests.UnmaskedFrame_IsClosedWith1002_AndTheServerServesOthers.)
/// </summary>
public class FrameAttackTests
{
    // Far above the bound a test waits for the end of the connection: a server that waited for the
    // client's close where it should fail the connection at once would show.
    private static readonly TimeSpan LongCloseHandshake = TimeSpan.FromSeconds(30);

    private static byte[] Frame(byte opcode, int payloadLength = 0, bool fin = true, byte rsv = 0) =>
        RawWebSocketClient.BuildFrame(opcode, new byte[payloadLength], fin, mask: true, rsv);

    private static byte[] Close(ushort code, params byte[] reason)
    {
        var payload = new byte[2 + reason.Length];
        BinaryPrimitives.WriteUInt16BigEndian(payload, code);
        reason.CopyTo(payload, 2);
        return RawWebSocketClient.BuildFrame(0x8, payload);
    }

    /// <summary>A masked binary frame header claiming a 64-bit length, with no payload behind it.</summary>
    private static byte[] Claiming(ulong length)
    {
        var header = new byte[14];
        header[0] = 0x82;
        header[1] = 0x80 | 127;
        BinaryPrimitives.WriteUInt64BigEndian(header.AsSpan(2), length);
        return header;
    }

    public static TheoryData<string, byte[], ushort> Violations => new()
    {
        { "RSV1 set", Frame(0x2, 4, rsv: 4), 1002 },
        { "RSV2 set", Frame(0x2, 4, rsv: 2), 1002 },
        { "RSV3 set", Frame(0x2, 4, rsv: 1), 1002 },
        { "opcode 3", Frame(0x3, 4), 1002 },
        { "opcode 7", Frame(0x7, 4), 1002 },
        { "opcode 0xB", Frame(0xB), 1002 },
        { "opcode 0xF", Frame(0xF), 1002 },
        { "fragmented ping", Frame(0x9, 4, fin: false), 1002 },
        { "fragmented close", Frame(0x8, 2, fin: false), 1002 },
        { "ping of 126 bytes", Frame(0x9, 126), 1002 },
        { "pong of 200 bytes", Frame(0xA, 200), 1002 },
        { "continuation without a start", Frame(0x0, 4), 1002 },
        { "new data frame mid-fragment", [.. Frame(0x2, 4, fin: false), .. Frame(0x2, 4)], 1002 },
        // A text frame inside a fragmented binary message breaks the interleaving rule (section 5.4) before
        // it is a text frame: 1002, and the framing is not trusted any more.
        { "text mid-fragment", [.. Frame(0x2, 4, fin: false), .. Frame(0x1, 4)], 1002 },
        { "64-bit length with the top bit", Claiming(0x8000_0000_0000_0000), 1002 },
        { "64-bit length all ones", Claiming(ulong.MaxValue), 1002 },
        { "text frame", Frame(0x1, 4), 1003 },
        { "close with a 1-byte payload", RawWebSocketClient.BuildFrame(0x8, [0x03]), 1002 },
        { "close code 999", Close(999), 1002 },
        { "close code 1004", Close(1004), 1002 },
        { "close code 1005", Close(1005), 1002 },
        { "close code 1006", Close(1006), 1002 },
        { "close code 1015", Close(1015), 1002 },
        { "close code 2999", Close(2999), 1002 },
        { "close code 5000", Close(5000), 1002 },
        { "close reason invalid UTF-8", Close(1000, 0xC3, 0x28), 1007 },
        { "close reason a lone surrogate", Close(1000, 0xED, 0xA0, 0x80), 1007 },
        { "frame claiming 16 MiB + 1", Claiming(16 * 1024 * 1024 + 1), 1009 },
        { "frame claiming 2^62", Claiming(1UL << 62), 1009 },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public async Task FrameViolation_IsClosedWithItsCode_AndTheServerServesTheNextClient(string violation, byte[] frames, ushort code)
    {
        await using var server = AttackedServer.Start(closeHandshakeTimeout: LongCloseHandshake);
        await using (var client = await server.UpgradedAsync())
        {
            await client.SendRawAsync(frames).WaitAsync(AttackedServer.Bound);
            var received = await client.ReadUntilCloseAsync().WaitAsync(AttackedServer.Bound);
            Assert.True(received == code, $"{violation}: expected close {code}, got {received?.ToString() ?? "no close frame"}");
            // After a text frame the framing is intact and the server waits for our close (the handshake);
            // after a framing violation, a malformed close frame included, it closes at once (RFC 6455
            // section 7.1.7), well within the bound and far from the close-handshake timeout.
            if (code == 1003) await client.SendCloseAsync(code).WaitAsync(AttackedServer.Bound);
            await AttackedServer.AssertClosedAsync(client);
        }

        await server.AssertServesANormalClientAsync();
    }

    [Theory]
    [InlineData("smux_off", "1-byte payload")]
    [InlineData("smux_off", "code 1005")]
    [InlineData("smux_on", "1-byte payload")]
    [InlineData("smux_on", "code 999")]
    [InlineData("smux_on", "code 1015")]
    [InlineData("smux_on", "reason not UTF-8")]
    public async Task MalformedClose_FailsTheConnectionAtOnce_WithoutWaitingForAnotherClose(string subprotocol, string malformed)
    {
        byte[] close = malformed switch
        {
            "1-byte payload" => RawWebSocketClient.BuildFrame(0x8, [0x03]),
            "code 1005" => Close(1005),
            "code 999" => Close(999),
            "code 1015" => Close(1015),
            _ => Close(1000, 0xC3, 0x28),
        };
        ushort code = malformed == "reason not UTF-8" ? (ushort)1007 : (ushort)1002;
        await using var server = AttackedServer.Start(closeHandshakeTimeout: LongCloseHandshake);
        await using (var client = await server.UpgradedAsync(subprotocol))
        {
            // Data first (an smux NOP, echoed by a plain tunnel's backend), so the relay is under way when the bad close arrives.
            await client.SendBinaryAsync(new byte[] { 1, 3, 0, 0, 0, 0, 0, 0 }).WaitAsync(AttackedServer.Bound);
            await client.SendRawAsync(close).WaitAsync(AttackedServer.Bound);
            var started = System.Diagnostics.Stopwatch.StartNew();
            await AttackedServer.AssertClosedWithAsync(client, code);
            Assert.True(started.Elapsed < LongCloseHandshake / 3, $"the connection stayed open {started.Elapsed.TotalSeconds:0.0} s after the close");
        }

        await server.AssertServesANormalClientAsync();
    }

    [Theory]
    [InlineData("smux_off")]
    [InlineData("smux_on")]
    public async Task TextFrame_ClientStillSending_IsHeardOutUntilItsClose_ThenClosedCleanly(string subprotocol)
    {
        // Sent at once behind the text frame, as a client does that has not yet read our close: well below
        // the drain budget, well above what fits the server's first read.
        const int Frames = 64;
        await using var server = AttackedServer.Start();
        await using (var client = await server.UpgradedAsync(subprotocol))
        {
            var burst = new List<byte>(Frame(0x1, 100));
            burst.AddRange(RawWebSocketClient.BuildFrame(0x1, new byte[10], fin: false));
            burst.AddRange(Frame(0x0, 10));
            burst.AddRange(RawWebSocketClient.BuildFrame(0x9, [1, 2]));
            for (int i = 0; i < Frames; i++) burst.AddRange(Frame(0x2, 16 * 1024));
            burst.AddRange(Close(1000));
            // Closing at once would meet these bytes with a reset, failing the send or the reads below.
            await client.SendRawAsync([.. burst]).WaitAsync(AttackedServer.Bound);

            Assert.Equal((ushort)1003, await client.ReadUntilCloseAsync().WaitAsync(AttackedServer.Bound));
            // A clean end: our close frame was the server's last input, so it ends with a FIN, not a reset.
            int read = await client.Stream.ReadAsync(new byte[1]).AsTask().WaitAsync(AttackedServer.Bound);
            Assert.Equal(0, read);
        }

        await server.AssertServesANormalClientAsync();
    }

    [Fact]
    public async Task TextFrame_ClientSendingForever_IsCutAfterTheDrainBudget()
    {
        // Far above the budget plus both sides' socket buffers (a few MiB each on loopback).
        const long Ceiling = Mtt.Core.WebSockets.WebSocketConnection.MaxDrainBytes + 64L * 1024 * 1024;
        await using var server = AttackedServer.Start();
        await using (var client = await server.UpgradedAsync())
        {
            await client.SendRawAsync(Frame(0x1, 4)).WaitAsync(AttackedServer.Bound);
            Assert.Equal((ushort)1003, await client.ReadUntilCloseAsync().WaitAsync(AttackedServer.Bound));

            byte[] frame = Frame(0x2, 64 * 1024);
            long sent = 0;
            var flood = Task.Run(async () =>
            {
                try
                {
                    while (sent < Ceiling)
                    {
                        await client.Stream.WriteAsync(frame);
                        sent += frame.Length;
                    }
                    return false;
                }
                catch (IOException)
                {
                    return true;
                }
            });
            Assert.True(await flood.WaitAsync(AttackedServer.Bound), $"the server was still reading after {sent} bytes");
        }

        await server.AssertServesANormalClientAsync();
    }
}
