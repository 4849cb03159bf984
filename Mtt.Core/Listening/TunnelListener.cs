using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Mtt.Core.Diagnostics;
using Mtt.Core.Routing;
using Mtt.Core.Transport;

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
    private readonly ILogger _log;
    private readonly ServerMetrics _metrics;
    private readonly MemoryReturner _memoryReturner;
    private readonly Action _connectionEnded;
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource? _noConnections;
    private int _activeConnections;
    private readonly SemaphoreSlim _handshakeSlots;
    private readonly PendingConnections _pending;
    private bool _atConnectionLimit;
    private volatile bool _acceptingStopped;
    private Socket? _listenSocket;
    private string? _unixPath;
    private Task? _acceptLoop;
    private AcceptProbe? _probe;

    public TunnelListener(TunnelServerOptions options, RouteStore routes, ILogger log, ServerMetrics? metrics = null)
    {
        _metrics = metrics ?? new ServerMetrics();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxConnections);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxHandshakes);
        _handshakeSlots = new SemaphoreSlim(options.MaxHandshakes, options.MaxHandshakes);
        _pending = new PendingConnections(options.MaxPendingPerAddress);
        _options = options;
        _routes = routes;
        _log = log;
        _memoryReturner = new MemoryReturner(log, () => Volatile.Read(ref _activeConnections), options.Time);
        _connectionEnded = ConnectionEnded;
    }

    /// <summary>Gives memory back once most connections of a peak have ended; for tests.</summary>
    internal MemoryReturner MemoryReturner => _memoryReturner;

    /// <summary>The bound address; with port 0 in the options, the port the system chose. Throws on a Unix socket (see <see cref="ListenEndPoint"/>).</summary>
    public IPEndPoint LocalEndPoint => ListenEndPoint as IPEndPoint ?? throw new InvalidOperationException("listening on a Unix socket, which has no IP address");

    /// <summary>Where the listener is: the bound <see cref="IPEndPoint"/>, or the <see cref="UnixDomainSocketEndPoint"/> of the options.</summary>
    public EndPoint ListenEndPoint =>
        _options.Bind is UnixDomainSocketEndPoint unix ? unix : (_listenSocket ?? throw new InvalidOperationException("not started")).LocalEndPoint!;

    /// <summary>Connects to this listener and sees its accept loop take the connection (the systemd watchdog's proof of life).</summary>
    public AcceptProbe Probe => _probe ?? throw new InvalidOperationException("not started");

    /// <summary>Awaited after each accept, before anything else: fault tests wedge the loop with it. Null in service.</summary>
    internal Func<Task>? AcceptStall { get; set; }

    /// <summary>The listening socket, for tests that look at its options.</summary>
    internal Socket Socket => _listenSocket ?? throw new InvalidOperationException("not started");

    /// <summary>Client addresses with a connection in its handshake now (<see cref="TunnelServerOptions.MaxPendingPerAddress"/>); for tests.</summary>
    internal int PendingAddresses => _pending.Addresses;

    /// <summary>The slots of <see cref="TunnelServerOptions.MaxHandshakes"/>; for tests, which look at them or hold one.</summary>
    internal SemaphoreSlim HandshakeSlots => _handshakeSlots;

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

    /// <summary>
    /// Binds and starts accepting; throws <see cref="SocketException"/> when the address cannot be bound, and
    /// <see cref="IOException"/> when a Unix socket's path is taken by something that must not be deleted.
    /// </summary>
    public void Start()
    {
        var unixPath = (_options.Bind as UnixDomainSocketEndPoint)?.ToString();
        if (unixPath is not null) UnixSocketFile.PrepareForBind(unixPath);
        var socket = new Socket(_options.Bind.AddressFamily, SocketType.Stream, unixPath is null ? ProtocolType.Tcp : ProtocolType.Unspecified);
        bool bound = false;
        try
        {
            if (_options.Bind.AddressFamily == AddressFamily.InterNetworkV6) socket.DualMode = true;
            socket.Bind(_options.Bind);
            bound = true;
            if (unixPath is not null) UnixSocketFile.AllowConnections(unixPath);
            if (_options.FastOpen) EnableFastOpen(socket, unixPath is not null);
            socket.Listen(Backlog);
        }
        catch
        {
            socket.Dispose();
            if (bound && unixPath is not null) UnixSocketFile.Remove(unixPath);
            throw;
        }
        _unixPath = unixPath;
        _listenSocket = socket;
        _probe = new AcceptProbe(ListenEndPoint);
        _acceptLoop = AcceptLoopAsync(socket);
    }

    // -fast-open is a wish: where it cannot be granted the server says so and serves without it.
    private void EnableFastOpen(Socket socket, bool unix)
    {
        if (unix)
        {
            ListeningLog.FastOpenOnUnixSocket(_log);
            return;
        }
        if (!OperatingSystem.IsLinux())
        {
            ListeningLog.FastOpenNotLinux(_log);
            return;
        }
        try
        {
            TcpFastOpen.Enable(socket);
        }
        catch (SocketException e)
        {
            ListeningLog.FastOpenRefused(_log, e.SocketErrorCode);
            return;
        }
        if (TcpFastOpen.ServerEnabledOnThisHost() is not true)
            ListeningLog.FastOpenOffInKernel(_log, TcpFastOpen.SysctlPath);
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
                ListeningLog.AcceptFailed(_log, e.SocketErrorCode, e.Message);
                try { await Task.Delay(TimeSpan.FromSeconds(1), _options.Time, token).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                continue;
            }

            if (AcceptStall is { } stall) await stall().ConfigureAwait(false);
            // Before every limit: a loop that still accepts is alive even when it must refuse everyone else.
            if (_probe!.TryClaim(client)) continue;

            if (Volatile.Read(ref _activeConnections) >= _options.MaxConnections)
            {
                RefuseOverLimit(client);
                continue;
            }
            _atConnectionLimit = false;
            if (!TryAdmitPending(client, out var pendingKey)) continue;

            // TCP only: a Unix socket has no Nagle to turn off (setting it throws).
            if (client.AddressFamily != AddressFamily.Unix && !TryDisableNagle(client))
            {
                if (pendingKey is not null) _pending.Leave(pendingKey);
                continue;
            }
            _memoryReturner.ConnectionOpened(Interlocked.Increment(ref _activeConnections));
            RunConnection(client, pendingKey, token);
        }
    }

    /// <summary>
    /// Counts the connection against its TCP peer's <see cref="TunnelServerOptions.MaxPendingPerAddress"/>, or closes
    /// it at once when that address is at the limit. Not counted here: a Unix socket peer, and a peer that speaks for
    /// others (every connection of a PROXY protocol proxy comes from it; the connection counts against the header's
    /// source once it is read, see <see cref="TunnelConnection"/>; a trusted HTTP proxy sends a whole head at once, so
    /// its clients cannot hold a connection in its handshake).
    /// </summary>
    private bool TryAdmitPending(Socket client, out IPAddress? key)
    {
        key = null;
        if (_options.RequireProxyHeader || client.RemoteEndPoint is not IPEndPoint peer) return true;
        if (_pending.TryAdmit(peer.Address, _options.TrustedProxies, _metrics, _log, out key)) return true;
        client.Dispose();
        return false;
    }

    // A client that reset between the accept and here can make the option fail; it is gone either way, and the
    // accept loop must not end with it.
    private static bool TryDisableNagle(Socket client)
    {
        try
        {
            client.NoDelay = true;
            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            client.Dispose();
            return false;
        }
    }

    /// <summary>
    /// Over <see cref="TunnelServerOptions.MaxConnections"/>: closed at once (the client reads end of stream, or a reset if it had sent bytes already)
    /// rather than left in the kernel's queue, where it would wait for nothing and crowd out later clients.
    /// Logged once per spell at the limit, so a flood does not flood the log too.
    /// </summary>
    private void RefuseOverLimit(Socket client)
    {
        // Counted before the close: a client that saw its end finds the refusal in the metrics already.
        _metrics.HandshakeRefused(HandshakeRefusal.MaxConnections);
        client.Dispose();
        if (_atConnectionLimit) return;
        _atConnectionLimit = true;
        ListeningLog.ConnectionLimitReached(_log, _options.MaxConnections);
    }

    /// <summary>Starts the connection, which leaves the accept loop at its first step; no async method wraps it, as an idle tunnel would keep its state.</summary>
    private void RunConnection(Socket client, IPAddress? pendingKey, CancellationToken stopping)
    {
        TunnelConnection connection;
        try
        {
            connection = new TunnelConnection(client, _options, _routes, _log, _metrics, _handshakeSlots, _pending, pendingKey, _connectionEnded);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The client reset before its addresses could be read: it is gone, and the accept loop goes on.
            if (pendingKey is not null) _pending.Leave(pendingKey);
            client.Dispose();
            ConnectionEnded();
            return;
        }
        _ = connection.RunAsync(stopping);
    }

    private void ConnectionEnded()
    {
        int active = Interlocked.Decrement(ref _activeConnections);
        if (active == 0) CompleteNoConnectionsWaiter();
        _memoryReturner.ConnectionEnded(active);
    }

    /// <summary>Stops accepting and ends every connection (tunnels get close 1001).</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _listenSocket?.Dispose();
        if (_unixPath is not null) UnixSocketFile.Remove(_unixPath);
        if (_acceptLoop is not null) await _acceptLoop.ConfigureAwait(false);
        await WhenNoConnections().ConfigureAwait(false);
    }
}
