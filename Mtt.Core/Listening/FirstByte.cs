using System.Net.Sockets;

namespace Mtt.Core.Listening;

/// <summary>The wait for a fresh connection's first byte (<see cref="TunnelServerOptions.FirstByteTimeout"/>).</summary>
internal static class FirstByte
{
    /// <summary>
    /// Completes, holding no buffer (a zero-byte receive only waits for readiness), once the peer has sent
    /// something or closed. Throws <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/>
    /// fires: the caller's deadline, which it reads as the first-byte timeout while this wait lasts.
    /// </summary>
    /// <remarks>
    /// No timer or check of its own: the receive's first try (the runtime peeks one byte) completes at once, with one
    /// system call, for a client whose bytes came right behind its ACK (or with TCP Fast Open), and waits for
    /// readiness otherwise; a check of the bytes waiting first was one more call on every connection that had none yet.
    /// </remarks>
    public static ValueTask<int> WaitAsync(Socket socket, CancellationToken cancellationToken) =>
        socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken);
}
