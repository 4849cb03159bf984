using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mtt.Benchmarks.Load;

/// <summary>
/// The attacker of `load attack`: connections that send nothing, and connections that drip one byte a second of a
/// ClientHello record (or, plain, of a request head) that never ends; each is opened again as soon as the server
/// drops it, so the flood stays in place whatever the server's timeouts. Each source address (127.1.x.y) opens
/// --per-address of them, so the flood stands for many machines.
/// </summary>
internal sealed class AttackFlood : IAsyncDisposable
{
    private static readonly TimeSpan DripInterval = TimeSpan.FromSeconds(1);
    // The ClientHello's record header claims 16 KiB (RFC 8446 section 5.1), so it never completes at one byte a second.
    private static readonly byte[] TlsPrefix = [0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x00, 0x3f, 0xfc, 0x03, 0x03];
    private static readonly byte[] PlainPrefix = Encoding.ASCII.GetBytes("GET " + TunnelServerTarget.UserPath + " HTTP/1.1\r\nHost: localhost\r\nX-Drip: ");

    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _slots;
    private int _connectedOnce;
    private int _open;
    private long _opened;

    private AttackFlood(int port, bool tls, int silent, int dripping, int perAddress)
    {
        _slots = new Task[silent + dripping];
        for (int i = 0; i < _slots.Length; i++)
        {
            int address = i / perAddress + 1;
            var from = new IPAddress([127, 1, (byte)(address >> 8), (byte)address]);
            _slots[i] = RunSlotAsync(from, port, i >= silent ? (tls ? TlsPrefix : PlainPrefix) : null, _stop.Token);
        }
    }

    public int Connections => _slots.Length;

    /// <summary>Attack connections open now.</summary>
    public int Open => Volatile.Read(ref _open);

    /// <summary>Connections opened since the start, first ones included: what the server's drops cost the attacker.</summary>
    public long Opened => Interlocked.Read(ref _opened);

    /// <summary>Starts every slot; completes once each has connected at least once.</summary>
    public static async Task<AttackFlood> StartAsync(int port, bool tls, int silent, int dripping, int perAddress, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var flood = new AttackFlood(port, tls, silent, dripping, perAddress);
        var deadline = DateTime.UtcNow + timeout;
        // The slots are tasks of their own; the harness only watches their count.
        while (Volatile.Read(ref flood._connectedOnce) < flood._slots.Length)
        {
            if (DateTime.UtcNow > deadline)
            {
                await flood.DisposeAsync().ConfigureAwait(false);
                throw new TimeoutException($"the flood's {flood._slots.Length} connections were not all open within {timeout.TotalSeconds:0} s");
            }
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
        return flood;
    }

    private async Task RunSlotAsync(IPAddress from, int port, byte[]? dripPrefix, CancellationToken stop)
    {
        await Task.Yield();
        bool first = true;
        while (!stop.IsCancellationRequested)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(from, 0));
                await socket.ConnectAsync(IPAddress.Loopback, port, stop).ConfigureAwait(false);
                Interlocked.Increment(ref _open);
                Interlocked.Increment(ref _opened);
                if (first) Interlocked.Increment(ref _connectedOnce);
                first = false;
                try
                {
                    // Completes when the server closes the connection.
                    var closed = socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, stop).AsTask();
                    if (dripPrefix is not null) await DripAsync(socket, dripPrefix, closed, stop).ConfigureAwait(false);
                    await closed.ConfigureAwait(false);
                }
                finally
                {
                    Interlocked.Decrement(ref _open);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                // Refused (the server's limits) or reset: the attacker simply tries again, as a real one would.
                if (stop.IsCancellationRequested) return;
                try { await Task.Delay(DripInterval, stop).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    private static async Task DripAsync(Socket socket, byte[] prefix, Task closed, CancellationToken stop)
    {
        await socket.SendAsync(prefix, SocketFlags.None, stop).ConfigureAwait(false);
        byte[] drop = "d"u8.ToArray();
        while (!closed.IsCompleted)
        {
            await Task.WhenAny(closed, Task.Delay(DripInterval, stop)).ConfigureAwait(false);
            stop.ThrowIfCancellationRequested();
            if (!closed.IsCompleted) await socket.SendAsync(drop, SocketFlags.None, stop).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_slots).ConfigureAwait(false);
        _stop.Dispose();
    }
}
