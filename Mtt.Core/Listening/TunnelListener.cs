using System.Net;
using System.Net.Sockets;
using Mtt.Core.Diagnostics;
using Mtt.Core.Routing;

namespace Mtt.Core.Listening;

/// <summary>
/// The tunnel listener: accepts connections and hands each to its own <see cref="TunnelConnection"/>,
/// so that no client, however slow or hostile, delays the accept loop or another client's handshake.
/// </summary>
public sealed class TunnelListener : IAsyncDisposable
{
    // Pending connections the kernel queues while the accept loop catches up.
    private const int Backlog = 512;

    private readonly TunnelServerOptions _options;
    private readonly RouteStore _routes;
    private readonly ServerLog _log;
    private readonly ServerMetrics _metrics;
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource? _noConnections;
    private int _activeConnections;
    private readonly SemaphoreSlim _handshakeSlots;
    private bool _atConnectionLimit;
    private volatile bool _acceptingStopped;
    private Socket? _listenSocket;
    private Task? _acceptLoop;

    public TunnelListener(TunnelServerOptions options, RouteStore routes, ServerLog log, ServerMetrics? metrics = null)
    {
        _metrics = metrics ?? new ServerMetrics();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxConnections);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxHandshakes);
        _handshakeSlots = new SemaphoreSlim(options.MaxHandshakes, options.MaxHandshakes);
        _options = options;
        _routes = routes;
        _log = log;
    }

    /// <summary>The bound address; with port 0 in the options, the port the system chose.</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)(_listenSocket ?? throw new InvalidOperationException("not started")).LocalEndPoint!;

    /// <summary>Connections accepted and not yet finished.</summary>
    public int ActiveConnections => Volatile.Read(ref _activeConnections);

    /// <summary>
    /// Completes once no connection is open (at once when none is): every tunnel has ended and counted
    /// its last bytes. For a stop that waits for tunnels to drain, and for tests.
    /// </summary>
    public Task WhenNoConnections()
    {
        if (Volatile.Read(ref _activeConnections) == 0) return Task.CompletedTask;
        var waiter = Volatile.Read(ref _noConnections);
        if (waiter is null)
        {
            var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiter = Interlocked.CompareExchange(ref _noConnections, created, null) ?? created;
        }
        // The last connection may have ended between the first count and the waiter's publication, and found no
        // waiter to complete: count again now that it is published.
        if (Volatile.Read(ref _activeConnections) == 0) CompleteNoConnectionsWaiter();
        return waiter.Task;
    }

    private void CompleteNoConnectionsWaiter() => Interlocked.Exchange(ref _noConnections, null)?.TrySetResult();

    /// <summary>Binds and starts accepting; throws <see cref="SocketException"/> when the address cannot be bound.</summary>
    public void Start()
    {
        var socket = new Socket(_options.Bind.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (_options.Bind.AddressFamily == AddressFamily.InterNetworkV6) socket.DualMode = true;
            socket.Bind(_options.Bind);
            socket.Listen(Backlog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        _listenSocket = socket;
        _acceptLoop = AcceptLoopAsync(socket);
    }

    /// <summary>
    /// Closes the listening socket so new connections are refused, while the open ones carry on
    /// (the first step of a graceful drain; <see cref="DisposeAsync"/> then ends whatever is left).
    /// </summary>
    public void StopAccepting()
    {
        _acceptingStopped = true;
        _listenSocket?.Dispose();
    }

    private async Task AcceptLoopAsync(Socket listenSocket)
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listenSocket.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException) when (_acceptingStopped)
            {
                // StopAccepting closed the socket under the pending accept.
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset)
            {
                // The client gave up while queued: nothing to do.
                continue;
            }
            catch (SocketException e)
            {
                // Out of file descriptors and the like: back off instead of spinning, and keep serving.
                _log.Error($"accept failed: {e.SocketErrorCode} ({e.Message}); retrying in 1 s");
                try { await Task.Delay(TimeSpan.FromSeconds(1), token).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                continue;
            }

            if (Volatile.Read(ref _activeConnections) >= _options.MaxConnections)
            {
                RefuseOverLimit(client);
                continue;
            }
            _atConnectionLimit = false;

            client.NoDelay = true;
            Interlocked.Increment(ref _activeConnections);
            _ = RunConnectionAsync(client, token);
        }
    }

    /// <summary>
    /// Over <see cref="TunnelServerOptions.MaxConnections"/>: closed at once (the client reads end of stream, or a reset if it had sent bytes already)
    /// rather than left in the kernel's queue, where it would wait for nothing and crowd out later clients.
    /// Logged once per spell at the limit, so a flood does not flood the log too.
    /// </summary>
    private void RefuseOverLimit(Socket client)
    {
        client.Dispose();
        if (_atConnectionLimit) return;
        _atConnectionLimit = true;
        _log.Warn($"{_options.MaxConnections} connections open (-max-connections): closing new ones at once until some end");
    }

    private async Task RunConnectionAsync(Socket client, CancellationToken stopping)
    {
        // Off the accept loop at once: whatever this connection does next, the loop is free.
        await Task.Yield();
        try
        {
            await new TunnelConnection(client, _options, _routes, _log, _metrics, _handshakeSlots).RunAsync(stopping).ConfigureAwait(false);
        }
        finally
        {
            if (Interlocked.Decrement(ref _activeConnections) == 0) CompleteNoConnectionsWaiter();
        }
    }

    /// <summary>Stops accepting and ends every connection (tunnels get close 1001).</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _listenSocket?.Dispose();
        if (_acceptLoop is not null) await _acceptLoop.ConfigureAwait(false);
        await WhenNoConnections().ConfigureAwait(false);
    }
}
