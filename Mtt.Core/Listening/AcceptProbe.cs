using System.Net;
using System.Net.Sockets;

namespace Mtt.Core.Listening;

/// <summary>
/// Proves that the tunnel listener's accept loop runs: connects to the listener and completes once the loop has
/// taken that very connection. The kernel completes a connect from its backlog whether or not anyone accepts, so
/// only the loop's own sighting counts. The loop recognises the probe by its address and closes it before any
/// limit, log or metric sees it. One probe at a time: while one is outstanding, asking again returns the same task.
/// </summary>
public sealed class AcceptProbe
{
    // Makes each probe's abstract Unix address unique within the process.
    private static int s_sequence;

    private readonly EndPoint _listener;
    private readonly Lock _lock = new();
    private Pending? _pending;

    /// <param name="listener">The listener's bound address (an IP endpoint, any-address included, or a Unix socket path).</param>
    public AcceptProbe(EndPoint listener) => _listener = listener;

    private sealed class Pending(Socket socket, EndPoint from)
    {
        public readonly Socket Socket = socket;
        public readonly EndPoint From = from;
        public readonly TaskCompletionSource Accepted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>
    /// Completes when the accept loop has taken a probe connection; faults when the listener cannot be connected to.
    /// Never completes while the loop is stuck: the caller decides how long is too long.
    /// </summary>
    public Task AcceptedAsync(CancellationToken cancellationToken)
    {
        Pending pending;
        lock (_lock)
        {
            if (_pending is { } outstanding) return outstanding.Accepted.Task;
            pending = Open();
            _pending = pending;
        }
        _ = ConnectAsync(pending, cancellationToken);
        return pending.Accepted.Task;
    }

    /// <summary>Called by the accept loop for each connection: true (and the connection closed) when it is the probe.</summary>
    internal bool TryClaim(Socket client)
    {
        Pending? pending = Volatile.Read(ref _pending);
        if (pending is null || !SameAddress(client.RemoteEndPoint, pending.From)) return false;
        client.Dispose();
        Finish(pending, error: null);
        return true;
    }

    // Bound before connecting, so that the address the loop will see is known before it can see it.
    private Pending Open()
    {
        if (_listener is UnixDomainSocketEndPoint)
        {
            var unix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            var name = new UnixDomainSocketEndPoint($"\0mtt-mu-server-probe-{Environment.ProcessId}-{Interlocked.Increment(ref s_sequence)}");
            unix.Bind(name);
            return new Pending(unix, unix.LocalEndPoint!);
        }
        var target = Target();
        var tcp = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        tcp.Bind(new IPEndPoint(target.Address, 0));
        return new Pending(tcp, tcp.LocalEndPoint!);
    }

    private async Task ConnectAsync(Pending pending, CancellationToken cancellationToken)
    {
        try
        {
            await pending.Socket.ConnectAsync(_listener is UnixDomainSocketEndPoint ? _listener : Target(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            Finish(pending, e);
        }
    }

    private void Finish(Pending pending, Exception? error)
    {
        lock (_lock)
        {
            if (_pending == pending) _pending = null;
        }
        pending.Socket.Dispose();
        if (error is null) pending.Accepted.TrySetResult();
        else pending.Accepted.TrySetException(error);
    }

    // An any-address listener is reached on loopback; a dual-stack one (IPv6 any) on IPv4 loopback as well.
    private IPEndPoint Target()
    {
        var bound = (IPEndPoint)_listener;
        if (bound.Address.Equals(IPAddress.Any) || bound.Address.Equals(IPAddress.IPv6Any)) return new IPEndPoint(IPAddress.Loopback, bound.Port);
        return bound;
    }

    // A dual-stack listener reports an IPv4 peer as ::ffff:a.b.c.d.
    private static bool SameAddress(EndPoint? seen, EndPoint expected) => (seen, expected) switch
    {
        (IPEndPoint a, IPEndPoint b) => a.Port == b.Port && a.Address.MapToIPv6().Equals(b.Address.MapToIPv6()),
        (UnixDomainSocketEndPoint a, UnixDomainSocketEndPoint b) => a.ToString() == b.ToString(),
        _ => false,
    };
}
