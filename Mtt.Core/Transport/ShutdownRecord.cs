using System.Net.Sockets;

namespace Mtt.Core.Transport;

/// <summary>The first end a transport's socket reported, kept once: later ends (ours included) do not overwrite it.</summary>
internal sealed class ShutdownRecord
{
    private int _kind;

    public TransportShutdownKind Kind => (TransportShutdownKind)Volatile.Read(ref _kind);

    /// <summary>The socket's error for <see cref="TransportShutdownKind.ReadFailed"/> and <see cref="TransportShutdownKind.WriteFailed"/>; Success otherwise.</summary>
    public SocketError Error { get; private set; }

    public void Ended(TransportShutdownKind kind) => Interlocked.CompareExchange(ref _kind, (int)kind, (int)TransportShutdownKind.None);

    /// <summary>
    /// A TLS stream's read found the peer's end; returns 0, the read's result. A zero-byte read (<paramref name="requested"/>
    /// 0) that finds the end returns 0 without meaning it: the read with a buffer after it does, and notes it.
    /// </summary>
    public int ReadEnded(int requested)
    {
        if (requested > 0) Ended(TransportShutdownKind.PeerClosed);
        return 0;
    }

    /// <summary>Notes a failed read or write; always false, so that it can sit in an exception filter and let the exception go on.</summary>
    public bool Failed(TransportShutdownKind kind, Exception exception)
    {
        // A cancelled wait or our own dispose is not the peer's doing: what disposed it records that.
        if (exception is OperationCanceledException or ObjectDisposedException) return false;
        var error = exception is IOException { InnerException: SocketException inner } ? inner.SocketErrorCode
            : exception is SocketException socket ? socket.SocketErrorCode : SocketError.SocketError;
        if (Interlocked.CompareExchange(ref _kind, (int)kind, (int)TransportShutdownKind.None) == (int)TransportShutdownKind.None) Error = error;
        return false;
    }
}
