namespace Mtt.Core.Upgrade;

/// <summary>
/// The WebSocket subprotocol the client offered and the server echoes (docs/protocol.md §2.5):
/// <c>smux_on</c> means multiplexed, <c>smux_off</c> one tunnel; <see cref="None"/> means the client
/// offered neither and the <c>-mux</c> flag decides.
/// </summary>
public enum Subprotocol
{
    None,
    SmuxOff,
    SmuxOn,
}
