using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using Mtt.Core.Listening;

namespace Mtt.Benchmarks.Load;

/// <summary>
/// The hidden mode `load relay-floor [--tls [--openssl]] --listen host:port --target host:port`: the least a relay
/// must do (accept, optionally terminate TLS with SslStream, or with libssl called directly as the server's
/// <c>-tls-engine openssl</c> does, dial, copy both ways) with no WebSocket and no routing. The harness runs it as
/// its own process so its CPU is read from /proc like the server's.
/// </summary>
internal static class RelayFloor
{
    public const string Mode = "relay-floor";
    public const string ReadyLine = "relay-floor listening on ";

    // One copy buffer per direction; big, so the floor is what the kernel and TLS cost, not our calls.
    private const int DefaultBufferSize = 64 * 1024;

    public static async Task<int> RunAsync(string[] args)
    {
        string? listen = null, target = null;
        bool tls = false, openSsl = false;
        int bufferSize = DefaultBufferSize;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--listen": listen = args[++i]; break;
                case "--target": target = args[++i]; break;
                case "--tls": tls = true; break;
                case "--openssl": openSsl = true; break;
                case "--buffer": bufferSize = (int)LoadOptions.ParseSize(args[++i]); break;
                default:
                    Console.Error.WriteLine($"relay-floor: unknown argument {args[i]}");
                    return 2;
            }
        }
        if (listen is null || target is null || !IPEndPoint.TryParse(listen, out var listenAt) || !IPEndPoint.TryParse(target, out var targetAt))
        {
            Console.Error.WriteLine("usage: load relay-floor [--tls [--openssl]] [--buffer size] --listen ip:port --target ip:port");
            return 2;
        }

        var certificate = tls ? SelfSignedCertificate.CreateContext("localhost") : null;
        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        // The harness holds our stdin: when it dies, however it dies, stdin ends and so do we.
        _ = Task.Run(() =>
        {
            Console.In.ReadToEnd();
            stop.Cancel();
        });

        using var listener = new Socket(listenAt.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(listenAt);
        listener.Listen(4096);
        Console.Out.WriteLine($"{ReadyLine}{listener.LocalEndPoint}");
        Console.Out.Flush();
        try
        {
            while (true)
            {
                var client = await listener.AcceptAsync(stop.Token).ConfigureAwait(false);
                _ = RelayAsync(client, targetAt, certificate, openSsl, bufferSize, stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
        return 0;
    }

    private static async Task RelayAsync(Socket client, IPEndPoint target, SslStreamCertificateContext? certificate, bool openSsl, int bufferSize, CancellationToken stop)
    {
        client.NoDelay = true;
        using var backend = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? clientStream = null;
        try
        {
            if (certificate is not null && openSsl)
            {
                // The engine the server runs with -tls-engine openssl, with nothing of the tunnel above it.
                clientStream = await Mtt.Core.Transport.OpenSsl.OpenSslHandshake.AcceptAsync(client, certificate, null, new Mtt.Core.Transport.ShutdownRecord(), stop).ConfigureAwait(false);
            }
            else clientStream = new NetworkStream(client, ownsSocket: false);
            if (certificate is not null && !openSsl)
            {
                var ssl = new SslStream(clientStream, leaveInnerStreamOpen: false);
                clientStream = ssl;
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = certificate,
                    ClientCertificateRequired = false,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                }, stop).ConfigureAwait(false);
            }
            await backend.ConnectAsync(target, stop).ConfigureAwait(false);
            await using var backendStream = new NetworkStream(backend, ownsSocket: false);
            await Task.WhenAll(
                CopyAsync(clientStream, backendStream, backend, bufferSize, stop),
                CopyAsync(backendStream, clientStream, client, bufferSize, stop)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
        {
        }
        finally
        {
            if (clientStream is not null) await clientStream.DisposeAsync().ConfigureAwait(false);
            client.Dispose();
        }
    }

    /// <summary>Copies until <paramref name="from"/> ends, then sends a TCP FIN on the socket under <paramref name="to"/>.</summary>
    private static async Task CopyAsync(Stream from, Stream to, Socket toSocket, int bufferSize, CancellationToken stop)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
        try
        {
            int n;
            while ((n = await from.ReadAsync(buffer, stop).ConfigureAwait(false)) > 0)
                await to.WriteAsync(buffer.AsMemory(0, n), stop).ConfigureAwait(false);
            toSocket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
