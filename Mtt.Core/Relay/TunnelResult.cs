using System.Net.Sockets;
using Mtt.Core.Transport;

namespace Mtt.Core.Relay;

/// <summary>How a tunnel ended, what it carried, and how its backend connection ended as its socket saw it.</summary>
public readonly record struct TunnelResult(TunnelEndReason Reason, long BytesFromClient, long BytesToClient,
    TransportShutdownKind BackendEnd = TransportShutdownKind.None, SocketError BackendError = SocketError.Success);
