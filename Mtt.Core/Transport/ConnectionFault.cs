using System.Net.Sockets;
using System.Security.Authentication;

namespace Mtt.Core.Transport;

/// <summary>
/// Tells a connection failing (a reset, a TLS error, a dispose, a cancelled read) from a fault of the server's own
/// code surfacing on a read. Both end the tunnel; only the second is worth an operator's warning, since filing it
/// as "the client disconnected" once hid a bug that cut healthy tunnels under load (a socket read consumed twice).
/// </summary>
internal static class ConnectionFault
{
    public static bool IsConnectionFailure(Exception e) =>
        e is IOException or SocketException or ObjectDisposedException or AuthenticationException or OperationCanceledException;
}
