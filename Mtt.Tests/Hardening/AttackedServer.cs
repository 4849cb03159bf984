using System.Text;
using Mtt.Core.Transport;
using Mtt.Tests.Support;

namespace Mtt.Tests.Hardening;

/// <summary>
/// A real tunnel listener with one user ("/u") in front of an echo backend, for attacks over raw
/// sockets; after each attack a test proves the server still serves a well-behaved client.
/// </summary>
public sealed class AttackedServer : IAsyncDisposable
{
    public const string UserPath = "/u";
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly EchoBackend _backend;

    private AttackedServer(TestServer server, EchoBackend backend)
    {
        Server = server;
        _backend = backend;
    }

    public TestServer Server { get; }

    public int BackendConnections => _backend.Accepted;

    /// <param name="closeHandshakeTimeout">How long the server waits for the client's close after its own; a long one shows a wait that should not happen.</param>
    public static AttackedServer Start(TimeSpan? handshakeTimeout = null, bool tls = false, TimeSpan? closeHandshakeTimeout = null, TlsEngine engine = TlsEngine.SslStream)
    {
        var backend = new EchoBackend();
        var server = TestServer.Start(tls: tls, handshakeTimeout: handshakeTimeout, closeHandshakeTimeout: closeHandshakeTimeout, engine: engine);
        server.AddUser(UserPath, backend.Address);
        return new AttackedServer(server, backend);
    }

    /// <summary>A client connected (and past TLS when the server speaks it).</summary>
    public Task<RawWebSocketClient> ConnectAsync() => RawWebSocketClient.ConnectAsync(Server.Port, Server.Certificate).WaitAsync(Bound);

    /// <summary>A bare TCP client, for attacks below TLS.</summary>
    public Task<RawWebSocketClient> ConnectTcpAsync() => RawWebSocketClient.ConnectAsync(Server.Port).WaitAsync(Bound);

    /// <summary>A client past its 101, as the Go client with <paramref name="subprotocol"/>.</summary>
    public async Task<RawWebSocketClient> UpgradedAsync(string subprotocol = "smux_off")
    {
        var client = await ConnectAsync();
        var (status, head) = await client.UpgradeAsync(UserPath, subprotocol).WaitAsync(Bound);
        Assert.True(status == 101, head);
        return client;
    }

    /// <summary>Sends <paramref name="request"/> and asserts the refusal's status, then that the server closed the connection.</summary>
    public async Task AssertRefusedAsync(byte[] request, int status)
    {
        await using var client = await ConnectAsync();
        await client.SendRawAsync(request).WaitAsync(Bound);
        var (actual, head) = await client.ReadResponseHeadAsync().WaitAsync(Bound);
        Assert.True(actual == status, $"expected {status}, got: {head}");
        await AssertClosedAsync(client);
    }

    public Task AssertRefusedAsync(string request, int status) => AssertRefusedAsync(Encoding.Latin1.GetBytes(request), status);

    public static async Task AssertClosedAsync(RawWebSocketClient client) =>
        Assert.True(await client.IsClosedByServerAsync().WaitAsync(Bound), "the server left the connection open");

    /// <summary>After a frame-level attack: the server's close code, then the end of the connection.</summary>
    public static async Task AssertClosedWithAsync(RawWebSocketClient client, ushort code)
    {
        var received = await client.ReadUntilCloseAsync().WaitAsync(Bound);
        Assert.Equal(code, received);
        await AssertClosedAsync(client);
    }

    /// <summary>One whole well-behaved tunnel: upgrade, an echo byte-exact, a clean close.</summary>
    public async Task AssertServesANormalClientAsync()
    {
        await using var client = await UpgradedAsync();
        await client.AssertEchoesThenClosesAsync("still serving after the attack", Bound);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync().AsTask().WaitAsync(Bound);
        await _backend.DisposeAsync().AsTask().WaitAsync(Bound);
    }
}
