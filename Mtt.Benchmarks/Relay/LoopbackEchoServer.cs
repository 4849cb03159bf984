using System.Net;
using System.Net.Sockets;
using Mtt.Core.Routing;

namespace Mtt.Benchmarks.Relay;

/// <summary>
/// A TCP echo on 127.0.0.1 for the relay rigs: the user's backend, dialled by the server's own
/// <c>BackendDialer</c>. Allocates nothing per echo once a connection runs (one buffer per connection,
/// socket operations without a cancellation token reuse the socket's cached event args).
/// </summary>
internal sealed class LoopbackEchoServer : IAsyncDisposable
{
    // One message of the rigs (at most 64 KiB) is echoed in one or a few calls.
    private const int BufferSize = 64 * 1024;

    private readonly Socket _listener;
    private readonly Task _acceptLoop;
    private readonly Lock _lock = new();
    private readonly List<(Socket Socket, Task Echo)> _connections = [];

    public LoopbackEchoServer()
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(16);
        Address = new BackendAddress("127.0.0.1", ((IPEndPoint)_listener.LocalEndPoint!).Port);
        _acceptLoop = AcceptAsync();
    }

    public BackendAddress Address { get; }

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        (Socket Socket, Task Echo)[] connections;
        lock (_lock) connections = [.. _connections];
        foreach (var (socket, _) in connections) socket.Dispose();
        foreach (var (_, echo) in connections) await echo.ConfigureAwait(false);
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }
            socket.NoDelay = true;
            lock (_lock) _connections.Add((socket, EchoAsync(socket)));
        }
    }

    // Memory overloads only: the byte[] ones (ArraySegment) return a Task, allocated per call.
    private static async Task EchoAsync(Socket socket)
    {
        var buffer = new byte[BufferSize];
        try
        {
            while (true)
            {
                int received = await socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).ConfigureAwait(false);
                if (received == 0) break;
                for (int sent = 0; sent < received;)
                    sent += await socket.SendAsync(buffer.AsMemory(sent, received - sent), SocketFlags.None).ConfigureAwait(false);
            }
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }
}
