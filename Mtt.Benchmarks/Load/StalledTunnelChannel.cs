using System.Net.Sockets;
using Mtt.Tests.Support;

namespace Mtt.Benchmarks.Load;

/// <summary>
/// `idle --stall-in-record`: a TLS tunnel whose client, once upgraded, sends the first 6 bytes of a record (its header,
/// saying 16,401 bytes follow, and one of them) past TLS and then nothing, as a client stalled inside a record does.
/// It echoes nothing; it ends with a TCP FIN, which the server reads as the end (docs/protocol.md §6.1).
/// </summary>
internal sealed class StalledTunnelChannel : EchoChannel
{
    // application_data, TLS 1.2 on the wire (as every TLS 1.3 record), a length the server accepts, and one byte of it.
    private static readonly byte[] PartialRecord = [23, 3, 3, 0x40, 0x11, 0];
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(30);

    private readonly RawWebSocketClient _client;

    private StalledTunnelChannel(RawWebSocketClient client) => _client = client;

    public static async Task<EchoChannel> OpenAsync(int port, CancellationToken cancellationToken)
    {
        var client = await RawWebSocketClient.OpenTunnelAsync(port, LoadClientTls.Options, TunnelServerTarget.UserPath, "smux_off", cancellationToken).ConfigureAwait(false);
        try
        {
            await client.Socket.SendAsync(PartialRecord, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            return new StalledTunnelChannel(client);
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public override ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("a stalled tunnel echoes nothing");

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("a stalled tunnel echoes nothing");

    /// <summary>A FIN, then what the server still sends is dropped until it closes its end.</summary>
    public override async Task CloseAsync()
    {
        var socket = _client.Socket;
        socket.Shutdown(SocketShutdown.Send);
        using var timeout = new CancellationTokenSource(CloseTimeout);
        byte[] sink = new byte[4096];
        try
        {
            while (await socket.ReceiveAsync(sink, SocketFlags.None, timeout.Token).ConfigureAwait(false) > 0)
            {
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // Reset or slow: the server's backend count says whether the tunnel ended.
        }
    }

    public override ValueTask DisposeAsync() => _client.DisposeAsync();
}
