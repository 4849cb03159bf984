using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;

namespace Mtt.Core.Transport.OpenSsl;

/// <summary>
/// The server side of a TLS handshake on libssl, driven by the socket's readiness. A silent client costs a zero-byte
/// receive (no buffer); bytes are handed to OpenSSL as they come, but the handshake is computed, holding a slot, only
/// when a whole record has arrived (<see cref="TlsRecordScanner"/>), as the SslStream engine's
/// <see cref="TlsRecordGate"/> does.
/// </summary>
internal static class OpenSslHandshake
{
    // What one receive takes: a ClientHello is a record or two; more waits for the next receive.
    private const int ReceiveSize = 16 * 1024;

    /// <summary>Runs the handshake; throws as the SslStream engine does (AuthenticationException, IOException, cancellation), disposing what it made.</summary>
    /// <param name="shutdown">Where the stream notes the first end its socket reports (<see cref="SocketTransport.ShutdownKind"/>).</param>
    /// <param name="recordsPerKey">Records the server sends under one key before it updates it (tests make it small).</param>
    public static async Task<Stream> AcceptAsync(Socket socket, SslStreamCertificateContext certificate, SemaphoreSlim? handshakeSlots, ShutdownRecord shutdown,
        CancellationToken cancellationToken, ulong recordsPerKey = Tls13RecordStream.DefaultRecordsPerKey)
    {
        OpenSslContext context;
        try
        {
            context = OpenSslContext.For(certificate);
        }
        catch (CryptographicException e)
        {
            throw new AuthenticationException(e.Message, e);
        }
        var session = new OpenSslSession(context, socket);
        try
        {
            var scanner = new TlsRecordScanner();
            while (true)
            {
                // The first async operation also makes the descriptor non-blocking, which OpenSSL's socket reads rely on.
                await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                int received;
                int records = 0;
                byte[] buffer = ArrayPool<byte>.Shared.Rent(ReceiveSize);
                try
                {
                    received = await socket.ReceiveAsync(buffer.AsMemory(0, ReceiveSize), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                    if (received > 0)
                    {
                        records = scanner.Take(buffer.AsSpan(0, received));
                        session.Feed(buffer.AsSpan(0, received));
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
                // As SslStream reports it: the peer's end in the middle of a handshake is a lost connection.
                if (received == 0) throw new IOException("the client closed the connection during the TLS handshake");
                if (records == 0) continue;

                if (handshakeSlots is not null) await handshakeSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
                // A step is ~0.5 ms of CPU (key share, signature): on the pool, not on the socket engine's thread that an
                // inline completion left us on, where it would delay every socket of that engine in a handshake flood.
                await ThreadPoolHop.OffSocketThread;
                HandshakeStep step;
                string? error;
                try
                {
                    step = session.Handshake(out error);
                }
                finally
                {
                    handshakeSlots?.Release();
                }
                if (step == HandshakeStep.Failed)
                {
                    // The alert OpenSSL wrote, if the client is still there to read it.
                    try { await SendOutputAsync(socket, session, cancellationToken).ConfigureAwait(false); }
                    catch (Exception e) when (e is SocketException or OperationCanceledException) { }
                    throw new AuthenticationException($"TLS handshake failed: {error}");
                }
                // Before the last flight is sent: the hand-off counts its records (they advance the server's sequence).
                var handOff = step == HandshakeStep.Done ? session.TryHandOff() : null;
                await SendOutputAsync(socket, session, cancellationToken).ConfigureAwait(false);
                if (step != HandshakeStep.Done) continue;
                if (handOff is null) return new OpenSslStream(socket, session, shutdown);
                session.Dispose();
                return new Tls13RecordStream(socket, handOff, shutdown, recordsPerKey);
            }
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static async Task SendOutputAsync(Socket socket, OpenSslSession session, CancellationToken cancellationToken)
    {
        int pending;
        while ((pending = session.PendingOutput) > 0)
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(pending);
            try
            {
                int length = session.TakeOutput(buffer);
                if (length == 0) return;
                await socket.SendAsync(buffer.AsMemory(0, length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
