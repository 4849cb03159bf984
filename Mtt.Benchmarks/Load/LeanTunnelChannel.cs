namespace Mtt.Benchmarks.Load;

/// <summary>A smux_off tunnel over <see cref="LeanWebSocket"/>: each send one binary message; closing is the close handshake.</summary>
internal sealed class LeanTunnelChannel : EchoChannel
{
    private readonly LeanWebSocket _socket;

    private LeanTunnelChannel(LeanWebSocket socket) => _socket = socket;

    public static async Task<EchoChannel> ConnectAsync(int port, bool tls, CancellationToken cancellationToken) =>
        new LeanTunnelChannel(await LeanWebSocket.ConnectAsync(port, tls, "smux_off", cancellationToken).ConfigureAwait(false));

    public override ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _socket.SendBinaryAsync(ReadOnlyMemory<byte>.Empty, data, cancellationToken);

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) => _socket.ReceiveAsync(buffer, cancellationToken);

    public override async Task CloseAsync()
    {
        if (!await _socket.CloseAsync().ConfigureAwait(false)) throw new IOException("the server did not finish the close handshake");
    }

    public override ValueTask DisposeAsync() => _socket.DisposeAsync();
}
