using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using Mtt.Tests.Support;

namespace Mtt.Tests.Listening;

/// <summary>Deleting a user, or moving it to another dst, closes its live tunnels with 1008 within a second; other users go on.</summary>
public sealed class UserKickTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    // The promise: a removed user's tunnels are gone within this.
    private static readonly TimeSpan KickDeadline = TimeSpan.FromSeconds(1);

    private static string Add(string path, string dst, string? name = null) =>
        $$"""{"opt":1,"args_bunch":[{"path":"{{path}}","dst":"{{dst}}"{{(name is null ? "" : $",\"name\":\"{name}\"")}}}]}""";

    /// <summary>A plain tunnel that sends 16 KiB messages without pause and reads the echo until the server's close frame.</summary>
    private sealed class BulkTunnel : IAsyncDisposable
    {
        private readonly RawWebSocketClient _client;
        private readonly TaskCompletionSource _flowing = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenSource _stopSending = new();
        private long _echoed;

        private BulkTunnel(RawWebSocketClient client)
        {
            _client = client;
            Sending = SendLoopAsync();
            CloseCode = ReadLoopAsync();
        }

        public Task Sending { get; }

        public Task<ushort?> CloseCode { get; }

        /// <summary>Completes once 256 KiB came back: the transfer is under way.</summary>
        public Task Flowing => _flowing.Task;

        public static async Task<BulkTunnel> OpenAsync(int port, string path)
        {
            var client = await RawWebSocketClient.ConnectAsync(port);
            var (status, _) = await client.UpgradeAsync(path).WaitAsync(Bound);
            Assert.Equal(101, status);
            return new BulkTunnel(client);
        }

        private async Task SendLoopAsync()
        {
            var chunk = new byte[16 * 1024];
            try
            {
                while (!_stopSending.IsCancellationRequested) await _client.SendBinaryAsync(chunk);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // The server closed the connection under our feet: that is the point.
            }
        }

        private async Task<ushort?> ReadLoopAsync()
        {
            try
            {
                while (await _client.ReadFrameAsync() is { } frame)
                {
                    if (frame.Opcode == 0x8) return System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(frame.Payload);
                    if (Interlocked.Add(ref _echoed, frame.Payload.Length) >= 256 * 1024) _flowing.TrySetResult();
                }
                return null;
            }
            finally
            {
                _stopSending.Cancel();
            }
        }

        public async ValueTask DisposeAsync()
        {
            _stopSending.Cancel();
            await _client.DisposeAsync();
            try { await Sending.WaitAsync(Bound); } catch (Exception) { }
        }
    }

    private static async Task AssertEchoesAsync(ClientWebSocket client, string text)
    {
        var message = Encoding.ASCII.GetBytes(text);
        await client.SendAsync(message, WebSocketMessageType.Binary, true, CancellationToken.None).WaitAsync(Bound);
        var buffer = new byte[256];
        int received = 0;
        while (received < message.Length)
            received += (await client.ReceiveAsync(buffer.AsMemory(received), CancellationToken.None).AsTask().WaitAsync(Bound)).Count;
        Assert.Equal(text, Encoding.ASCII.GetString(buffer, 0, received));
    }

    private static async Task<ClientWebSocket> ConnectPlainAsync(ServerWithController server, string path)
    {
        var client = new ClientWebSocket();
        client.Options.AddSubProtocol("smux_off");
        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{server.TunnelPort}{path}"), CancellationToken.None).WaitAsync(Bound);
        return client;
    }

    [Fact]
    public async Task DeletingAUser_MidTransfer_ClosesItsTunnelWith1008WithinASecond_AndOtherUsersGoOn()
    {
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start();
        Assert.Equal(1, (await server.CommandAsync(Add("/alice", backend.Address, "alice"))).GetProperty("res").GetInt32());
        Assert.Equal(1, (await server.CommandAsync(Add("/bob", backend.Address))).GetProperty("res").GetInt32());

        await using var bulk = await BulkTunnel.OpenAsync(server.TunnelPort, "/alice");
        using var bob = await ConnectPlainAsync(server, "/bob");
        await AssertEchoesAsync(bob, "before");
        await bulk.Flowing.WaitAsync(Bound);

        var reply = await server.CommandAsync("""{"opt":2,"args_bunch":[{"path":"/alice"}]}""");
        var sinceReply = Stopwatch.StartNew();
        Assert.Equal(1, reply.GetProperty("res").GetInt32());
        Assert.Equal((ushort)1008, await bulk.CloseCode.WaitAsync(Bound));
        Assert.True(sinceReply.Elapsed < KickDeadline, $"closed after {sinceReply.Elapsed}");

        // Bob's tunnel was not touched, and still relays.
        await AssertEchoesAsync(bob, "after");
        var bobState = await server.UserAsync("/bob");
        Assert.Equal(1, bobState.GetProperty("active_tunnels").GetInt64());
        Assert.Contains("1 tunnels of removed users closed", server.LogText);
        Assert.DoesNotContain("/alice", server.LogText);
    }

    [Fact]
    public async Task DeletingAUser_EndsItsSmuxSessionAndStreams_With1008()
    {
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start();
        await server.CommandAsync(Add("/carol", backend.Address, "carol"));
        await using var client = new SmuxTestClient(await ConnectRawAsync(server, "/carol", "smux_on"));
        var first = await client.OpenStreamAsync();
        var second = await client.OpenStreamAsync();
        await first.WriteAsync("one"u8.ToArray());
        await second.WriteAsync("two"u8.ToArray());
        Assert.Equal("one"u8.ToArray(), await first.ReadExactlyAsync(3).WaitAsync(Bound));
        Assert.Equal("two"u8.ToArray(), await second.ReadExactlyAsync(3).WaitAsync(Bound));
        Assert.Equal(2, (await server.UserAsync("/carol")).GetProperty("active_streams").GetInt64());

        await server.CommandAsync("""{"opt":3}""");
        var sinceReply = Stopwatch.StartNew();
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await client.Closed.WaitAsync(Bound));
        Assert.True(sinceReply.Elapsed < KickDeadline, $"closed after {sinceReply.Elapsed}");
        await server.AllTunnelsEndedAsync();
        Assert.Equal(0, server.Metrics.StreamsActive);
        Assert.Equal(0, server.Metrics.TunnelsActive);
    }

    [Fact]
    public async Task ReAddingAUserUnchanged_KeepsItsTunnel_ButAnotherDstClosesIt()
    {
        await using var backend = new EchoBackend();
        await using var other = new EchoBackend();
        await using var server = ServerWithController.Start();
        await server.CommandAsync(Add("/dave", backend.Address));
        using var dave = await ConnectPlainAsync(server, "/dave");
        await AssertEchoesAsync(dave, "first");

        // Same path and dst (a name added): the same user, counters and tunnel carried over.
        await server.CommandAsync(Add("/dave", backend.Address, "dave"));
        await AssertEchoesAsync(dave, "second");
        var state = await server.UserAsync("/dave");
        Assert.Equal("dave", state.GetProperty("name").GetString());
        Assert.Equal(1, state.GetProperty("active_tunnels").GetInt64());
        Assert.Equal(11, state.GetProperty("bytes_from_client").GetInt64());

        await server.CommandAsync(Add("/dave", other.Address, "dave"));
        var buffer = new byte[16];
        var result = await dave.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, result.CloseStatus);
        // The user with its new dst starts afresh.
        Assert.Equal(0, (await server.UserAsync("/dave")).GetProperty("total_tunnels").GetInt64());
    }

    [Fact]
    public async Task AConnectionRoutedToAUserDeletedBeforeItsTunnelStarts_IsClosedToo()
    {
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start();
        await server.CommandAsync(Add("/erin", backend.Address));
        server.Routes.Current.TryGet("/erin", out var route);
        route.State.Revoke();

        // The table still lists it (as a racing reader's snapshot would): routing refuses it all the same.
        await using var client = await RawWebSocketClient.ConnectAsync(server.TunnelPort);
        var (status, _) = await client.UpgradeAsync("/erin").WaitAsync(Bound);
        Assert.Equal(404, status);
    }

    private static async Task<WebSocket> ConnectRawAsync(ServerWithController server, string path, string subprotocol)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(subprotocol);
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{server.TunnelPort}{path}"), CancellationToken.None).WaitAsync(Bound);
        return socket;
    }
}
