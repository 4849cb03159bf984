namespace Mtt.Core.Transport;

/// <summary>
/// Why a transport ended, as its socket saw it; the first cause wins (as Pipelines.Sockets.Unofficial's
/// PipeShutdownKind records it). A tunnel's own end reason says what the tunnel decided; this says what the
/// network did, e.g. whether a client that vanished closed cleanly or was reset.
/// </summary>
public enum TransportShutdownKind
{
    /// <summary>Still open, or ended before anything was read or written through the transport.</summary>
    None,

    /// <summary>The peer closed its sending side (TCP FIN): a read returned end of stream.</summary>
    PeerClosed,

    /// <summary>A read failed: the peer reset the connection or the network failed (<see cref="SocketTransport.ShutdownError"/> says how).</summary>
    ReadFailed,

    /// <summary>A write failed: the peer reset the connection or stopped existing (<see cref="SocketTransport.ShutdownError"/> says how).</summary>
    WriteFailed,

    /// <summary>We closed it (the tunnel ended, the server stopped, a timeout) while the peer still had it open.</summary>
    ClosedByUs,
}
