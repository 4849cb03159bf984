using System.Net.Sockets;

namespace Mtt.Core.Listening;

/// <summary>The wait for a fresh connection's first byte (<see cref="TunnelServerOptions.FirstByteTimeout"/>).</summary>
internal static class FirstByte
{
    /// <summary>
    /// Completes, holding no buffer (a zero-byte receive only waits for readiness), once the peer has sent
    /// something or closed: true then, false when nothing came within <paramref name="timeout"/> on
    /// <paramref name="time"/>. Throws <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires.
    /// </summary>
    public static async Task<bool> WaitAsync(Socket socket, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        // A client that sent its first bytes right behind its ACK (or with TCP Fast Open) needs no timer.
        if (socket.Available > 0) return true;
        using var firstByte = new CancellationTokenSource(timeout, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, firstByte.Token);
        try
        {
            await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, either.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (firstByte.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
