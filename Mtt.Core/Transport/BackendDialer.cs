using System.Net;
using System.Net.Sockets;

namespace Mtt.Core.Transport;

/// <summary>Opens the TCP connection to a user's backend, bounded in time.</summary>
internal static class BackendDialer
{
    /// <summary>
    /// Connects and writes <paramref name="header"/> (a PROXY protocol header, or empty for none) before anything
    /// else, or returns null with the reason when the backend refused, was unreachable, too slow, or dropped the
    /// connection before taking the header. The header counts against <paramref name="timeout"/> too.
    /// </summary>
    public static async Task<(SocketTransport? Connection, string? Error)> DialAsync(BackendAddress backend, ReadOnlyMemory<byte> header, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
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

        // On the given clock, so that tests drive the timeout instead of waiting it out.
        using var deadline = new CancellationTokenSource(timeout, time);
        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            // Relayed bytes are written as they come; Nagle would only add latency to small requests.
            socket.NoDelay = true;
            await socket.ConnectAsync(endPoint, timeoutCts.Token).ConfigureAwait(false);
            // Before any relayed byte, and on the bare socket: the transport's pipe must not buffer it behind them.
            while (!header.IsEmpty) header = header[await socket.SendAsync(header, SocketFlags.None, timeoutCts.Token).ConfigureAwait(false)..];
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
                SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown => "connection dropped at once",
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
