using System.Net;
using System.Net.Sockets;

namespace Mtt.Tests.Support;

/// <summary>A backend on loopback: echoes what it receives, or just holds connections, and counts them.</summary>
public sealed class EchoBackend : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly bool _echo;
    private readonly List<Socket> _sockets = [];
    private readonly TaskCompletionSource<Socket> _firstConnection = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _firstEndOfInput = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _accepted;
    private readonly Task _acceptLoop;

    /// <param name="echo">false: accept and never read, like a backend that has stopped reading.</param>
    public EchoBackend(bool echo = true)
    {
        _echo = echo;
        _listener.Start();
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string Address => $"127.0.0.1:{Port}";

    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>The first connection the server made to this backend.</summary>
    public Task<Socket> FirstConnection => _firstConnection.Task;

    /// <summary>Completes when a connection's input ended (the server shut down its sending side or closed).</summary>
    public Task FirstEndOfInput => _firstEndOfInput.Task;

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                Interlocked.Increment(ref _accepted);
                lock (_sockets) _sockets.Add(socket);
                _firstConnection.TrySetResult(socket);
                if (_echo) _ = EchoAsync(socket);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Disposed: the listener stopped, possibly between two accepts ("Not listening").
        }
    }

    private async Task EchoAsync(Socket socket)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0)
                {
                    _firstEndOfInput.TrySetResult();
                    socket.Shutdown(SocketShutdown.Send);
                    return;
                }
                int sent = 0;
                while (sent < n) sent += await socket.SendAsync(buffer.AsMemory(sent, n - sent), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            _firstEndOfInput.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _acceptLoop;
        lock (_sockets)
        {
            foreach (var socket in _sockets) socket.Dispose();
        }
        _stop.Dispose();
    }
}
