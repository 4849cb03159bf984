using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Mtt.Core.Control.Commands;
using Mtt.Core.Diagnostics;
using Mtt.Core.Routing;

namespace Mtt.Core.Control.Http;

/// <summary>
/// The controller's own HTTP/1.1 listener (docs/protocol.md §5), separate from the tunnel listener:
/// POSTed JSON commands change the route table; everything else is refused with a JSON body.
/// </summary>
public sealed class ControllerServer : IAsyncDisposable
{
    // Connections the kernel may queue while the accept loop catches up; scripts open one or two at a time.
    private const int ListenBacklog = 128;

    // After a failed accept (out of file descriptors, say), wait before the next try instead of spinning.
    private static readonly TimeSpan AcceptRetryDelay = TimeSpan.FromMilliseconds(100);

    // How long DisposeAsync waits for closed connections to unwind; each ends at its next socket call.
    private static readonly TimeSpan ShutdownWait = TimeSpan.FromSeconds(5);

    private readonly IPEndPoint _bind;
    private readonly IUserTable _table;
    private readonly ILogger _log;
    private readonly ControllerLimits _limits;
    private readonly ServerMetrics _metrics;
    private readonly ServerMeter _meter;
    private readonly PrometheusExposition _exposition;
    private readonly Func<bool> _isDraining;
    private readonly byte[] _busyResponse;
    private readonly ControllerToken? _token;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<ControllerConnection, Task> _open = [];
    private Socket? _listener;
    private IPEndPoint? _localEndPoint;
    private Task _acceptLoop = Task.CompletedTask;
    private bool _disposed;
    private volatile bool _draining;

    /// <param name="options">Its <see cref="ControllerServerOptions.Bind"/> must be an <see cref="IPEndPoint"/> by now.</param>
    public ControllerServer(ControllerServerOptions options, RouteStore routes, ILogger log, ServerMetrics? metrics = null,
        IUserTable? table = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(routes);
        ArgumentNullException.ThrowIfNull(log);
        _bind = options.Bind as IPEndPoint
            ?? throw new ArgumentException($"the controller listens on an IP address and port, not {options.Bind}: resolve a host name first", nameof(options));
        _token = options.Token;
        _time = options.Time;
        _metrics = metrics ?? new ServerMetrics();
        // Commands go to the shared table when there is one (-redis), else to the in-process one.
        _table = table ?? new LocalUserTable(routes);
        _log = log;
        _limits = options.Limits;
        _limits.Validate();
        _busyResponse = ControllerResponse.Refusal(
            new HttpRejection(503, $"too many controller connections (at most {_limits.MaxConnections})"));
        // The meter lives as long as the controller that renders it, which in the daemon is the process.
        _meter = new ServerMeter(_metrics, routes);
        (table as IMeterSource)?.Register(_meter.Meter);
        _exposition = new PrometheusExposition(_meter);
        _isDraining = () => _draining;
    }

    /// <summary>The bound address (port 0 resolved to the real port); valid after <see cref="Start"/>.</summary>
    public IPEndPoint LocalEndPoint => _localEndPoint ?? throw new InvalidOperationException("the controller has not been started");

    /// <summary>Whether a token is required (<c>Authorization: Bearer</c> on every request, else 401).</summary>
    public bool RequiresToken => _token is not null;

    /// <summary>Whether the server is draining (after SIGTERM): <c>GET /healthz</c> then answers 503.</summary>
    public bool IsDraining => _draining;

    /// <summary>The server has started its drain: from now on <c>GET /healthz</c> answers 503, while commands are still served.</summary>
    public void MarkDraining() => _draining = true;

    /// <summary>Binds and listens (a taken address throws <see cref="SocketException"/>); accepting runs in the background.</summary>
    public void Start()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_listener is not null) throw new InvalidOperationException("the controller is already started");

            var listener = new Socket(_bind.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                listener.Bind(_bind);
                listener.Listen(ListenBacklog);
            }
            catch
            {
                listener.Dispose();
                throw;
            }
            _listener = listener;
            _localEndPoint = (IPEndPoint)listener.LocalEndPoint!;
        }
        ControllerLog.Listening(_log, _localEndPoint);
        _acceptLoop = Task.Run(() => AcceptLoopAsync(_listener));
    }

    /// <summary>Stops accepting and closes the open controller connections.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _stopping.Cancel();
        _listener?.Dispose();
        await _acceptLoop;

        Task[] closing;
        lock (_lock)
        {
            foreach (var connection in _open.Keys) connection.Close();
            closing = [.. _open.Values];
        }
        try
        {
            await Task.WhenAll(closing).WaitAsync(ShutdownWait);
        }
        catch (TimeoutException)
        {
            ControllerLog.StillClosing(_log, closing.Length, ShutdownWait.TotalSeconds);
        }
        _stopping.Dispose();
        _exposition.Dispose();
        _meter.Dispose();
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_stopping.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                if (_stopping.IsCancellationRequested) return;
                ControllerLog.ControllerAcceptFailed(_log, ex.Message);
                try { await Task.Delay(AcceptRetryDelay, _time, _stopping.Token); }
                catch (OperationCanceledException) { return; }
                continue;
            }
            Admit(client);
        }
    }

    private void Admit(Socket client)
    {
        client.NoDelay = true;
        lock (_lock)
        {
            if (!_disposed && _open.Count < _limits.MaxConnections)
            {
                var connection = new ControllerConnection(client, _table, _log, _limits, _metrics, _exposition, _isDraining, _time, _token);
                // Run off the accept loop: a request already waiting would otherwise be served on it.
                _open.Add(connection, Task.Run(() => ServeAsync(connection)));
                return;
            }
        }
        RefuseBusy(client);
    }

    private async Task ServeAsync(ControllerConnection connection)
    {
        await connection.RunAsync();
        lock (_lock) _open.Remove(connection);
    }

    private void RefuseBusy(Socket client)
    {
        ControllerLog.Busy(_log, client.RemoteEndPoint?.ToString() ?? "unknown client", _limits.MaxConnections);
        try
        {
            // Best effort, never blocking the accept loop: a fresh socket's send buffer takes a small answer whole.
            client.Blocking = false;
            client.Send(_busyResponse);
        }
        catch (SocketException)
        {
        }
        client.Dispose();
    }
}
