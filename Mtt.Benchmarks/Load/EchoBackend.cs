using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace Mtt.Benchmarks.Load;

/// <summary>The user's backend: a TCP echo on 127.0.0.1 inside the harness, with big buffers so it is never the bottleneck.</summary>
internal sealed class EchoBackend : IAsyncDisposable
{
    // Large enough to take a whole socket receive queue in one call on loopback.
    private const int BufferSize = 256 * 1024;

    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private int _active;
    private int _accepted;

    public EchoBackend()
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(4096);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _acceptLoop = AcceptAsync();
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    /// <summary>Connections open right now: the server's backend sockets that it has not closed yet.</summary>
    public int Active => Volatile.Read(ref _active);

    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Waits until at most <paramref name="count"/> connections remain open; false on timeout.</summary>
    public async Task<bool> WaitForActiveAtMostAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        // Polls a counter the harness owns; the server is a separate process and gives no signal of its own.
        while (Active > count)
        {
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(50).ConfigureAwait(false);
        }
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        try
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }
            socket.NoDelay = true;
            Interlocked.Increment(ref _accepted);
            Interlocked.Increment(ref _active);
            _ = EchoAsync(socket);
        }
    }

    private async Task EchoAsync(Socket socket)
    {
        byte[]? buffer = null;
        try
        {
            while (true)
            {
                // A zero-byte read first: an idle connection (the idle scenario) then holds no buffer here.
                await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                // Rented: connection churn would otherwise put a large-object allocation behind every connection.
                buffer ??= ArrayPool<byte>.Shared.Rent(BufferSize);
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                if (n == 0) break;
                for (int sent = 0; sent < n;)
                    sent += await socket.SendAsync(buffer.AsMemory(sent, n - sent), SocketFlags.None, _stop.Token).ConfigureAwait(false);
            }
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            socket.Dispose();
            if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
            Interlocked.Decrement(ref _active);
        }
    }
}
