using System.Net;
using System.Net.Sockets;

namespace Mtt.Tests.Support;

/// <summary>
/// A loopback backend whose connections obey their first byte: <see cref="Reset"/> gets the connection
/// reset at once, <see cref="Stall"/> is not read at all until <see cref="ReleaseStalled"/>, anything
/// else is echoed (the first byte included).
/// </summary>
public sealed class ScriptedBackend : IAsyncDisposable
{
    public const byte Reset = (byte)'R';
    public const byte Stall = (byte)'S';

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Socket> _sockets = [];
    private readonly Task _acceptLoop;
    private int _accepted;
    private int _resets;

    public ScriptedBackend()
    {
        _listener.Start();
        _acceptLoop = AcceptLoopAsync();
    }

    public string Address => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public int Accepted => Volatile.Read(ref _accepted);

    public int Resets => Volatile.Read(ref _resets);

    /// <summary>Completes when a stalling connection has been seen.</summary>
    public Task StalledConnectionSeen => _stalled.Task;

    public void ReleaseStalled() => _release.TrySetResult();

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                Interlocked.Increment(ref _accepted);
                lock (_sockets) _sockets.Add(socket);
                _ = ServeAsync(socket);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(0, 1), SocketFlags.None, _stop.Token);
            if (n == 0)
            {
                socket.Shutdown(SocketShutdown.Send);
                return;
            }
            if (buffer[0] == Reset)
            {
                Interlocked.Increment(ref _resets);
                socket.LingerState = new LingerOption(true, 0);
                socket.Close();
                return;
            }
            if (buffer[0] == Stall)
            {
                _stalled.TrySetResult();
                await _release.Task.WaitAsync(_stop.Token);
            }
            await SendAllAsync(socket, buffer.AsMemory(0, 1));
            while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token)) > 0)
            {
                await SendAllAsync(socket, buffer.AsMemory(0, n));
            }
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty) data = data[await socket.SendAsync(data, SocketFlags.None, _stop.Token)..];
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
