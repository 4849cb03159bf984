using Mtt.Core.Transport;
using Mtt.Tests.Support;

namespace Mtt.Tests.Hardening;

/// <summary>
/// -max-handshakes counts handshakes being computed, not connections waiting for their client's bytes: silent
/// or stalled connections cannot hold the door shut for anyone else.
/// </summary>
public class HandshakeSlotTests
{
    // Far below the 10 s handshake timeout that used to be the only thing to free a stalled connection's slot.
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(4);
    private const int Slots = 4;
    // Ten times the slots: each would have held one until its handshake timeout.
    private const int Stalled = 10 * Slots;

    public enum Stall
    {
        /// <summary>Connected, nothing sent.</summary>
        Silent,

        /// <summary>Half of a real ClientHello record, then nothing.</summary>
        HalfClientHello,

        /// <summary>TLS done (when the server speaks it), then one byte of a request head.</summary>
        OneByteOfHead,
    }

    [Theory]
    [InlineData(Stall.Silent, true, TlsEngine.SslStream)]
    [InlineData(Stall.HalfClientHello, true, TlsEngine.SslStream)]
    [InlineData(Stall.OneByteOfHead, true, TlsEngine.SslStream)]
    [InlineData(Stall.Silent, true, TlsEngine.OpenSsl)]
    [InlineData(Stall.HalfClientHello, true, TlsEngine.OpenSsl)]
    [InlineData(Stall.OneByteOfHead, true, TlsEngine.OpenSsl)]
    [InlineData(Stall.Silent, false, TlsEngine.SslStream)]
    [InlineData(Stall.OneByteOfHead, false, TlsEngine.SslStream)]
    public async Task StalledConnections_HoldNoHandshakeSlot_SoAFreshClientIsServedAtOnce(Stall stall, bool tls, TlsEngine engine)
    {
        await using var server = LimitedServer.Start(tls, maxHandshakes: Slots, engine: engine);
        byte[]? hello = stall == Stall.HalfClientHello ? await CapturedClientHello.CaptureAsync() : null;
        // A stalled head behind a finished TLS handshake: as many as there are slots, since a TLS client cannot
        // finish its handshake while every slot is held.
        int count = stall == Stall.OneByteOfHead && tls ? Slots : Stalled;
        var stalled = new List<RawWebSocketClient>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                var client = stall == Stall.OneByteOfHead
                    ? await server.ConnectAsync().WaitAsync(AttackedServer.Bound)
                    : await RawWebSocketClient.ConnectAsync(server.Port).WaitAsync(AttackedServer.Bound);
                stalled.Add(client);
                if (stall == Stall.HalfClientHello) await client.SendRawAsync(hello![..(hello.Length / 2)]);
                if (stall == Stall.OneByteOfHead) await client.SendRawAsync("G"u8.ToArray());
            }

            await server.AssertServesAsync(Prompt);
            await server.AssertServesAsync(Prompt);
            // Nothing a stalled connection sent is a whole record to compute on, so none of them holds a slot.
            if (stall != Stall.OneByteOfHead) Assert.Equal(Slots, server.Listener.HandshakeSlots.CurrentCount);
        }
        finally
        {
            foreach (var client in stalled) await client.DisposeAsync();
        }
    }
}
