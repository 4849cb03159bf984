using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Mtt.Core.Listening;
using Mtt.Core.Transport;
using Mtt.Core.Transport.OpenSsl;
using Mtt.Tests.Support;

namespace Mtt.Tests.Transport;

/// <summary>An SslStream client on loopback, and the engine's server end of the same connection.</summary>
internal sealed class RecordLayerPair : IAsyncDisposable
{
    private readonly RecordLayerListener _listener;

    private RecordLayerPair(RecordLayerListener listener, Socket clientSocket, SslStream client, Stream server)
    {
        _listener = listener;
        ClientSocket = clientSocket;
        Client = client;
        Server = server;
    }

    public Socket ClientSocket { get; }

    public SslStream Client { get; }

    public Stream Server { get; }

    public static Task<RecordLayerListener> ListenAsync() => Task.FromResult(new RecordLayerListener());

    public static async Task<RecordLayerPair> OpenAsync(SslProtocols protocols = SslProtocols.None, ulong recordsPerKey = Tls13RecordStream.DefaultRecordsPerKey,
        params TlsCipherSuite[] suites)
    {
        var listener = new RecordLayerListener();
        var clientSocket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await clientSocket.ConnectAsync(IPAddress.Loopback, listener.Port);
        var serverSide = listener.AcceptAsync(recordsPerKey);
        var client = new SslStream(new NetworkStream(clientSocket, ownsSocket: false));
        var options = TlsClients.Pinned(listener.Certificate, protocols);
        // The suites the client offers, its favourite first. Linux (and macOS) only; the suite tests check what was agreed.
        if (suites.Length > 0 && OperatingSystem.IsLinux()) options.CipherSuitesPolicy = new CipherSuitesPolicy(suites);
        await client.AuthenticateAsClientAsync(options).WaitAsync(TimeSpan.FromSeconds(30));
        return new RecordLayerPair(listener, clientSocket, client, await serverSide.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    /// <summary>The server writes back what it reads until the client's end; the bytes echoed.</summary>
    public Task<long> EchoAsync() => Echo(Server);

    public static Task<long> Echo(Stream server) => Task.Run(async () =>
    {
        byte[] buffer = new byte[64 * 1024];
        long total = 0;
        while (true)
        {
            // As the pipes read: a zero-byte read first, then one with a buffer.
            _ = await server.ReadAsync(Memory<byte>.Empty);
            int read = await server.ReadAsync(buffer);
            if (read == 0) return total;
            await server.WriteAsync(buffer.AsMemory(0, read));
            total += read;
        }
    });

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Client.DisposeAsync();
        ClientSocket.Dispose();
        await _listener.DisposeAsync();
    }
}
