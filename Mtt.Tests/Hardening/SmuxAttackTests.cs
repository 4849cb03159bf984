using Mtt.Tests.Support;

namespace Mtt.Tests.Hardening;

/// <summary>
/// Every smux violation (docs/protocol.md §4.2) inside a valid WebSocket: close 1002, the connection ended,
/// and the server serves a normal client right after.
/// </summary>
public class SmuxAttackTests
{
    private static byte[] Smux(byte version, byte command, int length = 0, uint streamId = 3, int dataBytes = -1)
    {
        var frame = new byte[SmuxTestClient.HeaderSize + (dataBytes < 0 ? length : dataBytes)];
        SmuxTestClient.WriteHeader(frame, version, command, (ushort)length, streamId);
        return frame;
    }

    public static TheoryData<string, byte[]> Violations => new()
    {
        { "version 0", Smux(0, SmuxTestClient.Syn) },
        { "version 3", Smux(3, SmuxTestClient.Syn) },
        { "version 255", Smux(255, SmuxTestClient.Nop) },
        { "version change 1 to 2", [.. Smux(1, SmuxTestClient.Syn), .. Smux(2, SmuxTestClient.Nop)] },
        { "version change 2 to 1", [.. Smux(2, SmuxTestClient.Syn), .. Smux(1, SmuxTestClient.Nop)] },
        { "unknown cmd 5", Smux(1, 5) },
        { "unknown cmd 255", Smux(2, 255) },
        { "UPD in version 1", Smux(1, SmuxTestClient.Upd, 8) },
        { "SYN with data", Smux(1, SmuxTestClient.Syn, 1) },
        { "FIN with data", [.. Smux(1, SmuxTestClient.Syn), .. Smux(1, SmuxTestClient.Fin, 4)] },
        { "NOP with data", Smux(2, SmuxTestClient.Nop, 65535, dataBytes: 0) },
        { "UPD with 4 bytes", Smux(2, SmuxTestClient.Upd, 4) },
        { "UPD with 9 bytes", Smux(2, SmuxTestClient.Upd, 9) },
        { "UPD claiming 65535 bytes", Smux(2, SmuxTestClient.Upd, 65535, dataBytes: 0) },
        { "bad version after a whole PSH", [.. Smux(1, SmuxTestClient.Syn), .. Smux(1, SmuxTestClient.Psh, 5), .. Smux(7, SmuxTestClient.Psh, 5)] },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public async Task SmuxViolation_IsClosedWith1002_AndTheServerServesTheNextClient(string violation, byte[] smuxBytes)
    {
        await using var server = AttackedServer.Start();
        await using (var client = await server.UpgradedAsync("smux_on"))
        {
            await client.SendBinaryAsync(smuxBytes).WaitAsync(AttackedServer.Bound);
            var received = await client.ReadUntilCloseAsync().WaitAsync(AttackedServer.Bound);
            Assert.True(received == 1002, $"{violation}: expected close 1002, got {received?.ToString() ?? "no close frame"}");
            await AttackedServer.AssertClosedAsync(client);
        }

        await server.AssertServesANormalClientAsync();
    }
}
