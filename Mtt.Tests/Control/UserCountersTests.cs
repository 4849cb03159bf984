using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Mtt.Tests.Support;

namespace Mtt.Tests.Control;

/// <summary>opt 4, opt 5 and GET /metrics over real tunnels: what each user moved, and what the server saw.</summary>
public sealed class UserCountersTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static async Task EchoAsync(ServerWithController server, string path, int bytes, string? subprotocol = "smux_off")
    {
        using var client = new ClientWebSocket();
        if (subprotocol is not null) client.Options.AddSubProtocol(subprotocol);
        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{server.TunnelPort}{path}"), CancellationToken.None).WaitAsync(Bound);
        var payload = new byte[bytes];
        await client.SendAsync(payload, WebSocketMessageType.Binary, true, CancellationToken.None).WaitAsync(Bound);
        var buffer = new byte[bytes];
        int received = 0;
        while (received < bytes) received += (await client.ReceiveAsync(buffer.AsMemory(received), CancellationToken.None).AsTask().WaitAsync(Bound)).Count;
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).WaitAsync(Bound);
    }

    private static async Task EchoOverSmuxAsync(ServerWithController server, string path, int bytes)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("smux_on");
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{server.TunnelPort}{path}"), CancellationToken.None).WaitAsync(Bound);
        await using var client = new SmuxTestClient(socket);
        var stream = await client.OpenStreamAsync();
        await stream.WriteAsync(new byte[bytes]);
        Assert.Equal(bytes, (await stream.ReadExactlyAsync(bytes).WaitAsync(Bound)).Length);
        await client.SendCloseAsync();
        await client.Closed.WaitAsync(Bound);
    }

    /// <summary>Counters are updated as the tunnel's end is processed, just after the client sees the close: wait for every tunnel to be done.</summary>
    private static async Task<JsonElement> SettledUserAsync(ServerWithController server, string path)
    {
        await server.AllTunnelsEndedAsync();
        var user = await server.UserAsync(path);
        Assert.Equal(0, user.GetProperty("active_tunnels").GetInt64());
        return user;
    }

    [Fact]
    public async Task Opt4_ListsUsersWithNameDstAndCounters_AfterPlainAndSmuxTunnels()
    {
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start();
        await server.CommandAsync($$"""{"opt":1,"args_bunch":[{"path":"/a","dst":"{{backend.Address}}","name":"acct-1"},{"path":"/b","dst":"{{backend.Address}}"}]}""");

        await EchoAsync(server, "/a", 1000);
        await EchoOverSmuxAsync(server, "/a", 3000);
        var a = await SettledUserAsync(server, "/a");
        Assert.Equal("acct-1", a.GetProperty("name").GetString());
        Assert.Equal(backend.Address, a.GetProperty("dst").GetString());
        Assert.Equal(2, a.GetProperty("total_tunnels").GetInt64());
        Assert.Equal(1, a.GetProperty("total_streams").GetInt64());
        Assert.Equal(0, a.GetProperty("active_streams").GetInt64());
        // smux counts the whole stream of frames from the client: headers of SYN/PSH/FIN are not payload, data is.
        Assert.Equal(4000, a.GetProperty("bytes_to_client").GetInt64());
        Assert.Equal(4000, a.GetProperty("bytes_from_client").GetInt64());
        var last = a.GetProperty("last_activity").GetDateTime();
        Assert.InRange(last, DateTime.UtcNow - Bound, DateTime.UtcNow + TimeSpan.FromSeconds(1));

        var b = await server.UserAsync("/b");
        Assert.False(b.TryGetProperty("name", out _));
        Assert.False(b.TryGetProperty("last_activity", out _));
        Assert.Equal(0, b.GetProperty("total_tunnels").GetInt64());
    }

    [Fact]
    public async Task Opt5WithReset_ReadsAndZeroes_TheNextReadHasOnlyWhatCameAfter()
    {
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start();
        await server.CommandAsync(UserBodies.Add("/t", backend.Address));
        await EchoAsync(server, "/t", 500);
        await SettledUserAsync(server, "/t");

        var first = await server.CommandAsync("""{"opt":5,"reset":true}""");
        var entry = Assert.Single(first.GetProperty("traffic").EnumerateArray());
        Assert.Equal("/t", entry.GetProperty("path").GetString());
        Assert.Equal(500, entry.GetProperty("bytes_from_client").GetInt64());
        Assert.Equal(500, entry.GetProperty("bytes_to_client").GetInt64());

        var empty = Assert.Single((await server.CommandAsync("""{"opt":5}""")).GetProperty("traffic").EnumerateArray());
        Assert.Equal(0, empty.GetProperty("bytes_from_client").GetInt64());

        await EchoAsync(server, "/t", 70);
        await SettledUserAsync(server, "/t");
        // Without reset, reading twice gives the same.
        for (int i = 0; i < 2; i++)
        {
            var again = Assert.Single((await server.CommandAsync("""{"opt":5}""")).GetProperty("traffic").EnumerateArray());
            Assert.Equal(70, again.GetProperty("bytes_to_client").GetInt64());
        }
        // opt 4's counters are since the user was added: resets do not touch them.
        Assert.Equal(570, (await server.UserAsync("/t")).GetProperty("bytes_to_client").GetInt64());
    }

    [Fact]
    public async Task Metrics_CountTunnelsRefusalsBytesDialFailuresAndCommands()
    {
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start();
        int closedPort;
        using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closedPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        await server.CommandAsync($$"""{"opt":1,"args_bunch":[{"path":"/m","dst":"{{backend.Address}}"},{"path":"/dead","dst":"127.0.0.1:{{closedPort}}"}]}""");
        await server.CommandAsync("""{"opt":7}""");
        await EchoAsync(server, "/m", 321);

        await using (var prober = await RawWebSocketClient.ConnectAsync(server.TunnelPort))
            Assert.Equal(404, (await prober.UpgradeAsync("/nobody").WaitAsync(Bound)).Status);
        await using (var dead = await RawWebSocketClient.ConnectAsync(server.TunnelPort))
        {
            Assert.Equal(101, (await dead.UpgradeAsync("/dead").WaitAsync(Bound)).Status);
            Assert.Equal((ushort)1011, await dead.ReadUntilCloseAsync().WaitAsync(Bound));
        }
        await SettledUserAsync(server, "/m");
        await SettledUserAsync(server, "/dead");

        string text = await server.ScrapeAsync();
        Assert.Contains("# TYPE mtt_tunnels_opened_total counter\nmtt_tunnels_opened_total 2\n", text);
        Assert.Contains("\nmtt_tunnels_active 0\n", text);
        Assert.Contains("\nmtt_users 2\n", text);
        Assert.Contains("\nmtt_bytes_from_client_total 321\n", text);
        Assert.Contains("\nmtt_bytes_to_client_total 321\n", text);
        Assert.Contains("\nmtt_handshakes_refused_total{reason=\"no_user\"} 1\n", text);
        Assert.Contains("\nmtt_backend_dial_failures_total 1\n", text);
        Assert.Contains("\nmtt_controller_commands_total{opt=\"1\",result=\"ok\"} 1\n", text);
        Assert.Contains("\nmtt_controller_commands_total{opt=\"other\",result=\"error\"} 1\n", text);
        // opt 4 calls made while settling count too, but no per-user series without -metrics-per-user, and never a path.
        Assert.DoesNotContain("mtt_user_", text);
        Assert.DoesNotContain("/m", text);
    }

    [Fact]
    public async Task MetricsPerUser_LabelsByName_OrAShortHashOfThePath_NeverThePath()
    {
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start(perUser: true);
        await server.CommandAsync($$"""{"opt":1,"args_bunch":[{"path":"/secret-1","dst":"{{backend.Address}}","name":"acct 7"},{"path":"/secret-2","dst":"{{backend.Address}}","name":"acct 7"},{"path":"/secret-3","dst":"{{backend.Address}}"}]}""");
        await EchoAsync(server, "/secret-1", 10);
        await EchoAsync(server, "/secret-2", 20);
        await SettledUserAsync(server, "/secret-1");
        await SettledUserAsync(server, "/secret-2");

        string text = await server.ScrapeAsync();
        // Two paths of one account are one series.
        Assert.Contains("\nmtt_user_bytes_from_client_total{user=\"acct 7\"} 30\n", text);
        Assert.Contains("\nmtt_user_tunnels_opened_total{user=\"acct 7\"} 2\n", text);
        Assert.Matches("\nmtt_user_bytes_from_client_total\\{user=\"#[0-9a-f]{8}\"\\} 0\n", text);
        Assert.Matches("\nmtt_user_last_activity_seconds\\{user=\"acct 7\"\\} \\d+(\\.\\d+)?\n", text);
        Assert.DoesNotContain("secret", text);
    }

    [Fact]
    public async Task MetricsEndpoint_IsGetOnly_OtherGetsStay405()
    {
        await using var server = ServerWithController.Start();
        using var response = await server.Http.GetAsync("/").WaitAsync(Bound);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        using var post = await server.Http.PostAsync("/metrics", new StringContent("""{"opt":9}""")).WaitAsync(Bound);
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.Contains("current_users", await post.Content.ReadAsStringAsync());
        using var scrape = await server.Http.GetAsync("/metrics?x=1").WaitAsync(Bound);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", scrape.Content.Headers.ContentType?.ToString());
    }

    [Fact]
    public async Task Names_AreValidated()
    {
        await using var server = ServerWithController.Start();
        foreach (var (name, reason) in new[]
        {
            ("\"a\\\"b\"", "name must be printable text without quotes or backslashes"),
            ("\"a\\nb\"", "name must be printable text without quotes or backslashes"),
            ("\"a\\\\b\"", "name must be printable text without quotes or backslashes"),
            ($"\"{new string('n', 129)}\"", "name is longer than 128 characters"),
            ("7", "name must be a string"),
        })
        {
            var reply = await server.CommandAsync($$"""{"opt":1,"args_bunch":[{"path":"/ok","dst":"127.0.0.1:1"},{"path":"/n","dst":"127.0.0.1:1","name":{{name}}}]}""");
            Assert.Equal(2, reply.GetProperty("res").GetInt32());
            Assert.Equal($"args_bunch[1] (path \"/n\"): {reason}", reply.GetProperty("err_string").GetString());
        }
        Assert.Equal(0, server.Routes.Current.Count);
        var ok = await server.CommandAsync("""{"opt":1,"args_bunch":[{"path":"/n","dst":"127.0.0.1:1","name":"Zoë #42 (acct)"}]}""");
        Assert.Equal(1, ok.GetProperty("res").GetInt32());
    }
}
