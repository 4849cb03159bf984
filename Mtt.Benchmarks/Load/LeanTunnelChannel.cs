using Mtt.Tests.Support;

namespace Mtt.Benchmarks.Load;

/// <summary>A smux_off tunnel over <see cref="RawWebSocketClient"/>: each send one binary message; closing is the close handshake.</summary>
internal sealed class LeanTunnelChannel : EchoChannel
{
    private readonly RawWebSocketClient _socket;

    private LeanTunnelChannel(RawWebSocketClient socket) => _socket = socket;

    public static async Task<EchoChannel> ConnectAsync(int port, bool tls, CancellationToken cancellationToken) =>
        new LeanTunnelChannel(await RawWebSocketClient.OpenTunnelAsync(port, tls ? LoadClientTls.Options : null, TunnelServerTarget.UserPath, "smux_off", cancellationToken).ConfigureAwait(false));

    public override ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _socket.SendBinaryAsync(ReadOnlyMemory<byte>.Empty, data, cancellationToken);

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) => _socket.ReceiveAsync(buffer, cancellationToken);

    public override async Task CloseAsync()
    {
        if (!await _socket.CloseAsync().ConfigureAwait(false)) throw new IOException("the server did not finish the close handshake");
    }

    public override ValueTask DisposeAsync() => _socket.DisposeAsync();
}
