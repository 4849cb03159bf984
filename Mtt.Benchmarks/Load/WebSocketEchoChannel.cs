using System.Net.WebSockets;

namespace Mtt.Benchmarks.Load;

/// <summary>A tunnel as the field's clients open it: a WebSocket with subprotocol smux_off, each chunk one binary message.</summary>
internal sealed class WebSocketEchoChannel : EchoChannel
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(10);

    private readonly ClientWebSocket _socket;

    private WebSocketEchoChannel(ClientWebSocket socket) => _socket = socket;

    public string? SubProtocol => _socket.SubProtocol;

    /// <summary>Connects and upgrades; <paramref name="bufferSize"/> sizes the client's own receive buffer.</summary>
    public static async Task<WebSocketEchoChannel> ConnectAsync(Uri uri, HttpMessageInvoker invoker, int bufferSize, bool keepAlive, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        try
        {
            socket.Options.AddSubProtocol("smux_off");
            socket.Options.SetBuffer(bufferSize, bufferSize);
            // The Go client sends no pings of its own in smux_off mode; an idle tunnel should stay silent.
            if (!keepAlive) socket.Options.KeepAliveInterval = TimeSpan.Zero;
            await socket.ConnectAsync(uri, invoker, cancellationToken).ConfigureAwait(false);
            if (socket.SubProtocol != "smux_off")
                throw new InvalidOperationException($"the server chose subprotocol '{socket.SubProtocol}', not smux_off");
            return new WebSocketEchoChannel(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public override ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _socket.SendAsync(data, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);

    public override async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await _socket.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (result.MessageType == WebSocketMessageType.Close) return 0;
        if (result.MessageType != WebSocketMessageType.Binary) throw new InvalidOperationException($"unexpected {result.MessageType} message");
        return result.Count;
    }

    public override async Task CloseAsync()
    {
        using var timeout = new CancellationTokenSource(CloseTimeout);
        try
        {
            await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            _socket.Abort();
        }
    }

    public override ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
