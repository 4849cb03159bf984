using Mtt.Core.Http;

namespace Mtt.Core.Upgrade;

/// <summary>Reads the subprotocols a client offers in Sec-WebSocket-Protocol, a list field (RFC 6455 4.1, 11.3.4).</summary>
internal static class SubprotocolList
{
    /// <summary>
    /// The first element that names a subprotocol this server speaks, in the client's order. Compared
    /// case-sensitively: RFC 6455 4.1 treats subprotocol names as exact strings, and gorilla/websocket,
    /// which the original server used, matches them with ==.
    /// </summary>
    public static Subprotocol FirstKnown(ReadOnlySpan<byte> list)
    {
        while (HttpTokenList.TryTakeElement(ref list, out var element))
        {
            if (element.SequenceEqual("smux_on"u8)) return Subprotocol.SmuxOn;
            if (element.SequenceEqual("smux_off"u8)) return Subprotocol.SmuxOff;
        }
        return Subprotocol.None;
    }
}
