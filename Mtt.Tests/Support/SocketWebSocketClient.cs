using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;

namespace Mtt.Tests.Support;

/// <summary>
/// A <see cref="ClientWebSocket"/> over a socket the test makes (through <see cref="SocketsHttpHandler.ConnectCallback"/>),
/// so the test knows the client's own address, or connects through a Unix socket (-bind-unix).
/// </summary>
public sealed class SocketWebSocketClient : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private readonly HttpMessageInvoker _invoker;

    private SocketWebSocketClient(ClientWebSocket webSocket, EndPoint localEndPoint, HttpMessageInvoker invoker)
    {
        WebSocket = webSocket;
        LocalEndPoint = localEndPoint;
        _invoker = invoker;
    }

    public ClientWebSocket WebSocket { get; }

    /// <summary>The client's side of the connection: an <see cref="IPEndPoint"/> over TCP.</summary>
    public EndPoint LocalEndPoint { get; }

    /// <param name="uri">ws://host:port/path over TCP; with <paramref name="unixSocket"/> only its path counts.</param>
    /// <param name="unixSocket">The socket file to connect to instead of the URI's host and port.</param>
    public static async Task<SocketWebSocketClient> ConnectAsync(Uri uri, string? subprotocol, string? unixSocket = null)
    {
        EndPoint? local = null;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, token) =>
            {
                Socket socket = unixSocket is null
                    ? new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true }
                    : new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(unixSocket is null ? context.DnsEndPoint : new UnixDomainSocketEndPoint(unixSocket), token);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
                local = socket.LocalEndPoint;
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        var invoker = new HttpMessageInvoker(handler);
        var webSocket = new ClientWebSocket();
        if (subprotocol is not null) webSocket.Options.AddSubProtocol(subprotocol);
        try
        {
            await webSocket.ConnectAsync(uri, invoker, CancellationToken.None).WaitAsync(Bound);
        }
        catch
        {
            webSocket.Dispose();
            invoker.Dispose();
            throw;
        }
        return new SocketWebSocketClient(webSocket, local!, invoker);
    }

    public void Dispose()
    {
        WebSocket.Dispose();
        _invoker.Dispose();
    }
}
