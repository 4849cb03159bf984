using System.Buffers;
using System.Net.Sockets;

namespace Mtt.Core.ClientAddress;

/// <summary>
/// Takes the PROXY header off a fresh socket and not one byte more, so the TLS ClientHello or HTTP head after it
/// is still the socket's to read: each round peeks at what has arrived, lets <see cref="ProxyHeaderParser"/>
/// judge it, and consumes only the bytes the parser says are header. A peek blocks until new bytes arrive,
/// because the ones seen before were consumed; a header takes one round unless its sender split it.
/// </summary>
internal static class ProxyHeaderReader
{
    /// <summary>
    /// The parser's verdict on the header; NeedMoreData here means the peer closed before it ended (Length: the
    /// bytes it sent). Throws <see cref="OperationCanceledException"/> on cancellation and
    /// <see cref="SocketException"/> when the connection breaks.
    /// </summary>
    public static async Task<ProxyHeaderParseResult> ReadAsync(Socket socket, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ProxyHeaderParser.MaxHeaderLength);
        try
        {
            int consumed = 0;
            while (true)
            {
                // Never empty: the parser refuses a header before it could fill the buffer.
                var window = buffer.AsMemory(consumed, ProxyHeaderParser.MaxHeaderLength - consumed);
                int peeked = await socket.ReceiveAsync(window, SocketFlags.Peek, cancellationToken).ConfigureAwait(false);
                if (peeked == 0) return ProxyHeaderParseResult.NeedMoreData(consumed);

                var result = ProxyHeaderParser.Parse(buffer.AsSpan(0, consumed + peeked));
                int take = result.Status switch
                {
                    ProxyHeaderParseStatus.Complete => result.Length - consumed,
                    ProxyHeaderParseStatus.NeedMoreData => peeked,
                    _ => 0,
                };
                while (take > 0)
                {
                    // The bytes are already in the kernel's buffer (we peeked them), so this returns at once.
                    int read = await socket.ReceiveAsync(buffer.AsMemory(consumed, take), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                    if (read == 0) return ProxyHeaderParseResult.NeedMoreData(consumed);
                    consumed += read;
                    take -= read;
                }
                if (result.Status != ProxyHeaderParseStatus.NeedMoreData) return result;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
