using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;

namespace Mtt.Benchmarks.Load.Soak;

/// <summary>
/// One hostile connection of a given <see cref="HostileKind"/> against the tunnel port. It never asserts what the
/// server answers (refusing is right); it only waits, bounded, for the server to end the connection, so a
/// connection the server keeps forever shows up as <see cref="Outcome.Lingered"/>.
/// </summary>
internal static class HostileClient
{
    public enum Outcome { Closed, Lingered }

    private static readonly byte[] Head = Encoding.ASCII.GetBytes(
        $"GET {TunnelServerTarget.UserPath} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: smux_off\r\n\r\n");

    // A masked binary frame of 5 bytes (RFC 6455 §5.2), mask key 0: the echo backend gets "hello".
    private static readonly byte[] Frame = [0x82, 0x85, 0, 0, 0, 0, (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o'];

    public static async Task<(Outcome Outcome, string Detail)> RunAsync(int port, HostileKind kind, byte[] clientHello, Random random, TimeSpan closeBound, CancellationToken cancellationToken)
    {
        string detail = kind.ToString();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, port, cancellationToken).ConfigureAwait(false);
        try
        {
            switch (kind)
            {
                case HostileKind.SabotagedHandshake:
                case HostileKind.DribbledSabotage:
                    var sabotage = (Sabotage)random.Next(Enum.GetValues<Sabotage>().Length);
                    var stream = new SabotageStream(socket, random.Next(1, 6), sabotage, kind == HostileKind.DribbledSabotage, random);
                    detail = $"{kind} {sabotage} at write {stream.WriteIndex}";
                    await SabotagedAsync(stream, random, cancellationToken).ConfigureAwait(false);
                    if (!stream.Fired) detail += " (not reached: the tunnel was valid)";
                    break;
                case HostileKind.GarbageFirst:
                    for (int i = random.Next(1, 4); i > 0; i--) await SendAsync(socket, HostileRecords.Garbage(random), cancellationToken).ConfigureAwait(false);
                    break;
                case HostileKind.OversizeFirst:
                    await SendAsync(socket, HostileRecords.Oversize(random), cancellationToken).ConfigureAwait(false);
                    break;
                case HostileKind.TruncatedHello:
                    await SendAsync(socket, clientHello.AsMemory(0, random.Next(1, clientHello.Length)), cancellationToken).ConfigureAwait(false);
                    if (random.Next(2) == 0) Reset(socket);
                    else socket.Shutdown(SocketShutdown.Send);
                    break;
                case HostileKind.DataAfterCloseNotify:
                    await AfterCloseNotifyAsync(socket, random, cancellationToken).ConfigureAwait(false);
                    break;
                case HostileKind.HalfClose:
                    await HalfCloseAsync(socket, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    await SendAsync(socket, HostileRecords.Stub(random), cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // The server refused or dropped the connection: what it should do.
            return (Outcome.Closed, detail);
        }
        return (await WaitForCloseAsync(socket, closeBound, cancellationToken).ConfigureAwait(false), detail);
    }

    private static async Task SabotagedAsync(SabotageStream stream, Random random, CancellationToken cancellationToken)
    {
        await using var ssl = new SslStream(stream, leaveInnerStreamOpen: true);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
            AllowTlsResume = false,
            EnabledSslProtocols = random.Next(2) == 0 ? SslProtocols.Tls12 : SslProtocols.Tls13,
        };
        await ssl.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
        // Writes 3 and on are records of the tunnel: the head, a 0-byte write, then frames.
        await ssl.WriteAsync(Head, cancellationToken).ConfigureAwait(false);
        await ssl.WriteAsync(ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        await ReadHeadAsync(ssl, cancellationToken).ConfigureAwait(false);
        for (int i = 0; i < 4 && !stream.Fired; i++) await ssl.WriteAsync(Frame, cancellationToken).ConfigureAwait(false);
    }

    private static async Task AfterCloseNotifyAsync(Socket socket, Random random, CancellationToken cancellationToken)
    {
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: true);
        await ssl.AuthenticateAsClientAsync(LoadClientTls.Options, cancellationToken).ConfigureAwait(false);
        await ssl.WriteAsync(Head, cancellationToken).ConfigureAwait(false);
        await ReadHeadAsync(ssl, cancellationToken).ConfigureAwait(false);
        await ssl.WriteAsync(Frame, cancellationToken).ConfigureAwait(false);
        await ssl.ShutdownAsync().ConfigureAwait(false);
        // After close_notify the peer must ignore or refuse anything more (RFC 8446 §6.1).
        await SendAsync(socket, random.Next(2) == 0 ? HostileRecords.Garbage(random) : HostileRecords.Oversize(random), cancellationToken).ConfigureAwait(false);
        await ssl.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task HalfCloseAsync(Socket socket, CancellationToken cancellationToken)
    {
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: true);
        await ssl.AuthenticateAsClientAsync(LoadClientTls.Options, cancellationToken).ConfigureAwait(false);
        await ssl.WriteAsync(Head, cancellationToken).ConfigureAwait(false);
        await ReadHeadAsync(ssl, cancellationToken).ConfigureAwait(false);
        await ssl.WriteAsync(Frame, cancellationToken).ConfigureAwait(false);
        socket.Shutdown(SocketShutdown.Send);
    }

    private static async Task ReadHeadAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] response = new byte[1024];
        int length = 0;
        while (response.AsSpan(0, length).IndexOf("\r\n\r\n"u8) < 0 && length < response.Length)
        {
            int n = await stream.ReadAsync(response.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (n == 0) throw new IOException("closed before a response head");
            length += n;
        }
    }

    /// <summary>Reads (and drops) until the server ends the connection, or <paramref name="bound"/> passes.</summary>
    private static async Task<Outcome> WaitForCloseAsync(Socket socket, TimeSpan bound, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(bound);
        byte[] sink = new byte[16 * 1024];
        try
        {
            while (await socket.ReceiveAsync(sink, SocketFlags.None, timeout.Token).ConfigureAwait(false) > 0) { }
            return Outcome.Closed;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Outcome.Lingered;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return Outcome.Closed;
        }
    }

    private static void Reset(Socket socket)
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Close();
    }

    private static async Task SendAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty) data = data[await socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false)..];
    }
}
