using System.Net;
using System.Net.Sockets;
using Mtt.Core.Routing;
using Mtt.Core.Listening;

namespace Mtt.Core.Relay;

/// <summary>Opens the TCP connection to a user's backend, bounded in time.</summary>
internal static class BackendDialer
{
    /// <summary>Connects, or returns null with the reason when the backend refused, was unreachable or too slow.</summary>
    public static async Task<(SocketTransport? Connection, string? Error)> DialAsync(BackendAddress backend, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Socket socket;
        EndPoint endPoint;
        if (IPAddress.TryParse(backend.Host, out var ip))
        {
            socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            endPoint = new IPEndPoint(ip, backend.Port);
        }
        else
        {
            socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            endPoint = new DnsEndPoint(backend.Host, backend.Port);
        }

        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutCts.CancelAfter(timeout);
        try
        {
            // Relayed bytes are written as they come; Nagle would only add latency to small requests.
            socket.NoDelay = true;
            await socket.ConnectAsync(endPoint, timeoutCts.Token).ConfigureAwait(false);
            return (SocketTransport.CreatePlain(socket), null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            return (null, $"no answer within {timeout.TotalSeconds:0.#} s");
        }
        catch (SocketException e)
        {
            socket.Dispose();
            return (null, e.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => "connection refused",
                SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host name not resolved",
                SocketError.NetworkUnreachable or SocketError.HostUnreachable => "unreachable",
                _ => e.SocketErrorCode.ToString(),
            });
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
