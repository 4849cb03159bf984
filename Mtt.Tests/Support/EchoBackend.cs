using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Mtt.Tests.Support;

/// <summary>
/// A user's backend on 127.0.0.1: echoes what it receives, or just holds connections, and counts them. When
/// scripted, a connection obeys its first byte: <see cref="Reset"/> gets it reset at once,
/// <see cref="Stall"/> is not read further until <see cref="ReleaseStalled"/>, <see cref="HandOver"/> is
/// given to the test (<see cref="NextHandedOverAsync"/>) to script by hand, anything else is echoed
/// (the first byte included). The load harness and the relay rigs compile this same file: an echo
/// allocates nothing once a connection runs, and its buffer is big enough never to be the bottleneck.
/// </summary>
public sealed class EchoBackend : IAsyncDisposable
{
    public const byte Reset = (byte)'R';
    public const byte Stall = (byte)'S';
    public const byte HandOver = (byte)'H';

    // Large enough to take a whole socket receive queue in one call on loopback.
    private const int BufferSize = 256 * 1024;

    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private readonly bool _echo;
    private readonly bool _scripted;
    private readonly Lock _lock = new();
    private readonly HashSet<Socket> _open = [];
    private readonly TaskCompletionSource<Socket> _firstConnection = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _firstEndOfInput = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<Socket> _handedOver = Channel.CreateUnbounded<Socket>();
    private readonly Task _acceptLoop;
    private ActiveWaiter? _waiter;
    private int _accepted;
    private int _active;
    private int _resets;

    /// <param name="echo">false: accept and never read, like a backend that has stopped reading.</param>
    /// <param name="scripted">true: each connection obeys its first byte (see the class summary).</param>
    public EchoBackend(bool echo = true, bool scripted = false)
    {
        _echo = echo;
        _scripted = scripted;
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Connections open right now: accepted and not yet closed by either side (held and handed-over ones stay open).</summary>
    public int Active => Volatile.Read(ref _active);

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
    public void StopAccepting() => _listener.Dispose();

    /// <summary>Waits until at most <paramref name="count"/> connections remain open; false on timeout. One waiter at a time.</summary>
    public Task<bool> WaitForActiveAtMostAsync(int count, TimeSpan timeout) => WaitForActiveAsync(int.MinValue, count, timeout);

    /// <summary>Waits until at least <paramref name="count"/> connections are open; false on timeout. One waiter at a time.</summary>
    public Task<bool> WaitForActiveAtLeastAsync(int count, TimeSpan timeout) => WaitForActiveAsync(count, int.MaxValue, timeout);

    private async Task<bool> WaitForActiveAsync(int atLeast, int atMost, TimeSpan timeout)
    {
        var waiter = new ActiveWaiter(atLeast, atMost);
        if (Interlocked.CompareExchange(ref _waiter, waiter, null) is not null) throw new InvalidOperationException("another wait on the open connections is in progress");
        try
        {
            // Checked after the waiter is in place, so a change in between is not missed.
            waiter.Check(Active);
            await waiter.Reached.Task.WaitAsync(timeout).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        finally
        {
            Volatile.Write(ref _waiter, null);
        }
    }

    private void ActiveChanged(int active) => Volatile.Read(ref _waiter)?.Check(active);

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Disposed, or the listener stopped between two accepts.
                return;
            }
            socket.NoDelay = true;
            Interlocked.Increment(ref _accepted);
            lock (_lock) _open.Add(socket);
            ActiveChanged(Interlocked.Increment(ref _active));
            _firstConnection.TrySetResult(socket);
            if (_echo) _ = EchoAsync(socket);
        }
    }

    // Memory overloads without a token: they reuse the socket's cached awaitable, so an echo allocates nothing.
    // Disposing the socket is what ends a pending receive.
    private async Task EchoAsync(Socket socket)
    {
        byte[]? buffer = null;
        bool first = true;
        bool close = true;
        try
        {
            while (true)
            {
                if (buffer is null)
                {
                    // A zero-byte read first: a connection that has sent nothing yet (the idle scenario) holds no buffer.
                    await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                    // Rented: connection churn would otherwise put a large-object allocation behind every connection.
                    buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
                }
                int n = await socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).ConfigureAwait(false);
                if (n == 0) break;
                if (first && _scripted)
                {
                    first = false;
                    if (buffer[0] == Reset)
                    {
                        ResetNow(socket);
                        return;
                    }
                    if (buffer[0] == HandOver)
                    {
                        close = false;
                        _handedOver.Writer.TryWrite(socket);
                        return;
                    }
                    if (buffer[0] == Stall)
                    {
                        _stalled.TrySetResult();
                        await _release.Task.WaitAsync(_stop.Token).ConfigureAwait(false);
                    }
                }
                for (int sent = 0; sent < n;)
                    sent += await socket.SendAsync(buffer.AsMemory(sent, n - sent), SocketFlags.None).ConfigureAwait(false);
            }
            _firstEndOfInput.TrySetResult();
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            _firstEndOfInput.TrySetResult();
        }
        finally
        {
            if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
            if (close) Closed(socket);
        }
    }

    private void ResetNow(Socket socket)
    {
        Interlocked.Increment(ref _resets);
        socket.LingerState = new LingerOption(true, 0);
        socket.Close();
    }

    private void Closed(Socket socket)
    {
        socket.Dispose();
        bool wasOpen;
        lock (_lock) wasOpen = _open.Remove(socket);
        if (wasOpen) ActiveChanged(Interlocked.Decrement(ref _active));
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        Socket[] open;
        lock (_lock) open = [.. _open];
        foreach (var socket in open) Closed(socket);
        _stop.Dispose();
    }

    private sealed class ActiveWaiter(int atLeast, int atMost)
    {
        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Check(int active)
        {
            if (active >= atLeast && active <= atMost) Reached.TrySetResult();
        }
    }
}
