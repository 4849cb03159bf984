using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace Mtt.Benchmarks.Load;

/// <summary>A bare TCP or TLS connection to a floor relay: the same sockets and SslStream as a tunnel, no WebSocket.</summary>
internal sealed class StreamEchoChannel : EchoChannel
{
    private readonly Socket _socket;
    private readonly Stream _stream;

    private StreamEchoChannel(Socket socket, Stream stream)
    {
        _socket = socket;
        _stream = stream;
    }

    public static async Task<StreamEchoChannel> ConnectAsync(int port, bool tls, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken).ConfigureAwait(false);
            Stream stream = new NetworkStream(socket, ownsSocket: false);
            if (tls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                await ssl.AuthenticateAsClientAsync(LoadClientTls.Options, cancellationToken).ConfigureAwait(false);
                stream = ssl;
            }
            return new StreamEchoChannel(socket, stream);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public override ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => _stream.WriteAsync(data, cancellationToken);

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) => _stream.ReadAsync(buffer, cancellationToken);

    public override Task CloseAsync()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
        }
        return Task.CompletedTask;
    }

    public override async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
    }
}
