using System.Runtime.CompilerServices;
using Mtt.Core.Diagnostics;
using Mtt.Core.Relay;
using Mtt.Core.Routing;
using Mtt.Core.Transport;
using Mtt.Tests.Support;

namespace Mtt.Benchmarks.Relay;

/// <summary>
/// A plain (smux_off) tunnel: the server's <see cref="WebSocketTunnel"/> between an in-memory client
/// and an echo backend on loopback, dialled and wrapped exactly as the server does it.
/// </summary>
internal sealed class PlainTunnelRig : IRelayRig
{
    // No timer of the tunnel may fire while it is measured.
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromHours(1);
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan DialTimeout = TimeSpan.FromSeconds(10);

    private readonly EchoBackend _backend;
    private readonly PipeWebSocketClient _client;
    private readonly CancellationTokenSource _stop;
    private readonly Task<TunnelResult> _run;
    private readonly byte[] _data;
    private readonly byte[] _frame;

    private PlainTunnelRig(int messageBytes, EchoBackend backend, PipeWebSocketClient client, CancellationTokenSource stop, Task<TunnelResult> run)
    {
        MessageBytes = messageBytes;
        _backend = backend;
        _client = client;
        _stop = stop;
        _run = run;
        _data = EchoedBytes.Pattern(messageBytes);
        _frame = MaskedClientFrame.Binary(_data);
    }

    public int MessageBytes { get; }

    public static async Task<PlainTunnelRig> StartAsync(int messageBytes)
    {
        var backend = new EchoBackend();
        var (connection, error) = await BackendDialer.DialAsync(new BackendAddress("127.0.0.1", backend.Port), ReadOnlyMemory<byte>.Empty, DialTimeout, TimeProvider.System, CancellationToken.None).ConfigureAwait(false);
        if (connection is null)
        {
            await backend.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"the echo backend refused: {error}");
        }
        var client = new PipeWebSocketClient();
        var meter = new TunnelMeter(new UserState(), new ServerMetrics());
        var tunnel = new WebSocketTunnel(client.Server, connection, IdleTimeout, CloseHandshakeTimeout, meter, TimeProvider.System);
        var stop = new CancellationTokenSource();
        return new PlainTunnelRig(messageBytes, backend, client, stop, tunnel.RunAsync(stop.Token));
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask EchoAsync(int messages)
    {
        for (int i = 0; i < messages; i++)
        {
            await _client.SendAsync(_frame).ConfigureAwait(false);
            int received = 0;
            while (received < _data.Length)
            {
                var payload = await _client.ReceiveMessageAsync().ConfigureAwait(false);
                EchoedBytes.Check(payload, _data, received);
                received += (int)payload.Length;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        // As a server stopping: the tunnel sends its close and drops the backend.
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _run.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        finally
        {
            _client.Complete();
            await _backend.DisposeAsync().ConfigureAwait(false);
            _stop.Dispose();
        }
    }
}
