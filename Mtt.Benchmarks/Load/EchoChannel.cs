namespace Mtt.Benchmarks.Load;

/// <summary>One client connection that carries a byte stream to an echo and back: a WebSocket tunnel or a bare/TLS TCP stream.</summary>
internal abstract class EchoChannel : IAsyncDisposable
{
    public abstract ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Some bytes of the echo, or 0 when the far side ended the stream.</summary>
    public abstract ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Ends the connection politely (close handshake or TCP FIN), bounded in time.</summary>
    public abstract Task CloseAsync();

    public abstract ValueTask DisposeAsync();
}
