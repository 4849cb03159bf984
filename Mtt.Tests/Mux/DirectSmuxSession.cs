using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Mtt.Core.Diagnostics;
using Mtt.Core.Listening;
using Mtt.Core.Mux;
using Mtt.Core.Routing;
using Mtt.Core.Transport;
using Mtt.Core.WebSockets;
using Mtt.Tests.Support;

namespace Mtt.Tests.Mux;

/// <summary>An <see cref="SmuxSession"/> run directly over a loopback socket pair (no HTTP upgrade), so a test can look at it.</summary>
internal sealed class DirectSmuxSession : IAsyncDisposable
{
    private readonly SocketTransport _transport;

    private DirectSmuxSession(SocketTransport transport, SmuxSession session, SmuxTestClient client, Task<SmuxSessionResult> run)
    {
        _transport = transport;
        Session = session;
        Client = client;
        Run = run;
    }

    public SmuxSession Session { get; }

    public SmuxTestClient Client { get; }

    public Task<SmuxSessionResult> Run { get; }

    /// <param name="dial">When given, dials each stream's backend instead of <see cref="BackendDialer"/>.</param>
    public static async Task<DirectSmuxSession> StartAsync(string backend, byte version, SmuxSessionOptions? options = null,
        Func<CancellationToken, Task<(SocketTransport? Connection, string? Error)>>? dial = null)
    {
        if (!BackendAddress.TryParse(backend, out var address, out var error)) throw new ArgumentException(error);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var clientSocket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await clientSocket.ConnectAsync((IPEndPoint)listener.LocalEndpoint);
        var serverSocket = await listener.AcceptSocketAsync();

        var transport = SocketTransport.CreatePlain(serverSocket);
        var webSocket = new WebSocketConnection(transport.Input, transport.Output);
        var session = new SmuxSession(webSocket, dial ?? (token => BackendDialer.DialAsync(address, ReadOnlyMemory<byte>.Empty, TimeSpan.FromSeconds(10), TimeProvider.System, token)),
            options ?? new SmuxSessionOptions(), ServerLog.Silent, "test client", backend, new TunnelMeter(new UserState(), new ServerMetrics()));
        var run = session.RunAsync(CancellationToken.None);
        var clientWebSocket = WebSocket.CreateFromStream(new NetworkStream(clientSocket, ownsSocket: true),
            new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = Timeout.InfiniteTimeSpan });
        return new DirectSmuxSession(transport, session, new SmuxTestClient(clientWebSocket, version), run);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        try { await Run.WaitAsync(TimeSpan.FromSeconds(10)); } catch (Exception) { }
        await _transport.DisposeAsync();
    }
}
