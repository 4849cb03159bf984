using System.Net.Sockets;
using Mtt.Core.Transport;

namespace Mtt.Core.Relay;

/// <summary>
/// How a tunnel ended, what it carried, how its backend connection ended as its socket saw it, and an exception of
/// the server's own that ended it (not a connection failing; see <see cref="ConnectionFault"/>), if one did.
/// </summary>
public readonly record struct TunnelResult(TunnelEndReason Reason, long BytesFromClient, long BytesToClient,
    TransportShutdownKind BackendEnd = TransportShutdownKind.None, SocketError BackendError = SocketError.Success, Exception? Fault = null);
