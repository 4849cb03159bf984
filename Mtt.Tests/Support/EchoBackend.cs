using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Mtt.Tests.Support;

/// <summary>
/// A backend on loopback: echoes what it receives, or just holds connections, and counts them. When
/// scripted, a connection obeys its first byte: <see cref="Reset"/> gets it reset at once,
/// <see cref="Stall"/> is not read at all until <see cref="ReleaseStalled"/>, <see cref="HandOver"/> is
/// given to the test (<see cref="NextHandedOverAsync"/>) to script by hand, anything else is echoed
/// (the first byte included).
/// </summary>
public sealed class EchoBackend : IAsyncDisposable
{
    public const byte Reset = (byte)'R';
    public const byte Stall = (byte)'S';
    public const byte HandOver = (byte)'H';

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly bool _echo;
    private readonly bool _scripted;
    private readonly List<Socket> _sockets = [];
    private readonly TaskCompletionSource<Socket> _firstConnection = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _firstEndOfInput = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<Socket> _handedOver = Channel.CreateUnbounded<Socket>();
    private readonly Task _acceptLoop;
    private int _accepted;
    private int _resets;

    /// <param name="echo">false: accept and never read, like a backend that has stopped reading.</param>
    /// <param name="scripted">true: each connection obeys its first byte (see the class summary).</param>
    public EchoBackend(bool echo = true, bool scripted = false)
    {
        _echo = echo;
        _scripted = scripted;
        _listener.Start();
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string Address => $"127.0.0.1:{Port}";

    public int Accepted => Volatile.Read(ref _accepted);

    public int Resets => Volatile.Read(ref _resets);

    /// <summary>The first connection the server made to this backend.</summary>
    public Task<Socket> FirstConnection => _firstConnection.Task;

    /// <summary>Completes when a connection's input ended (the server shut down its sending side or closed).</summary>
    public Task FirstEndOfInput => _firstEndOfInput.Task;

    /// <summary>Scripted: completes when a stalling connection has been seen.</summary>
    public Task StalledConnectionSeen => _stalled.Task;

    public void ReleaseStalled() => _release.TrySetResult();

    /// <summary>Scripted: the next connection whose first byte was <see cref="HandOver"/>; the backend neither reads nor writes it.</summary>
    public ValueTask<Socket> NextHandedOverAsync(CancellationToken cancellationToken = default) => _handedOver.Reader.ReadAsync(cancellationToken);

    /// <summary>Closes the listening socket, as a backend process going away would: new connections are refused, open ones go on.</summary>
    public void StopAccepting() => _listener.Stop();

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
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
            if (n > 0 && _scripted && !await ObeyFirstByteAsync(socket, buffer[0])) return;
            while (n > 0)
            {
                await SendAllAsync(socket, buffer.AsMemory(0, n));
                n = await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
            }
            _firstEndOfInput.TrySetResult();
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            _firstEndOfInput.TrySetResult();
        }
    }

    /// <summary>Carries out a scripted connection's first byte; false when the connection is done.</summary>
    private async Task<bool> ObeyFirstByteAsync(Socket socket, byte first)
    {
        if (first == Reset)
        {
            Interlocked.Increment(ref _resets);
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
            return false;
        }
        if (first == HandOver)
        {
            _handedOver.Writer.TryWrite(socket);
            return false;
        }
        if (first == Stall)
        {
            _stalled.TrySetResult();
            await _release.Task.WaitAsync(_stop.Token);
        }
        return true;
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
