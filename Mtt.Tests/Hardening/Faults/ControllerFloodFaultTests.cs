using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Mtt.Tests.Control;
using Mtt.Tests.Support;

namespace Mtt.Tests.Hardening.Faults;

/// <summary>
/// Fault: the controller is hammered (hundreds of concurrent commands over many connections) while
/// tunnels carry traffic. Only the users a command names may notice.
/// </summary>
public sealed class ControllerFloodFaultTests
{
    private static readonly TimeSpan Bound = FaultyNetwork.Bound;

    private const int Workers = 8;
    private const int RequestsPerWorker = 50;
    private static readonly string[] LiveUsers = ["/live1", "/live2", "/live3"];

    private static string Entry(string path, string dst) => $$"""{"path":"{{path}}","dst":"{{dst}}"}""";

    private static string FloodUser(int worker, int request, char which) => $"/f{worker}/{request}/{which}";

    /// <summary>Worker <paramref name="worker"/>'s request <paramref name="i"/>: adds two users, deletes one of them, lists, reads and resets traffic, re-adds a live user unchanged, pings.</summary>
    private static (string Body, int Opt) Command(int worker, int i, string dst) => (i % 6) switch
    {
        0 => ($$"""{"opt":1,"args_bunch":[{{Entry(FloodUser(worker, i, 'a'), dst)}},{{Entry(FloodUser(worker, i, 'b'), dst)}}]}""", 1),
        1 => ($$"""{"opt":2,"args_bunch":[{"path":"{{FloodUser(worker, i - 1, 'a')}}"}]}""", 2),
        2 => ("""{"opt":4}""", 4),
        3 => ("""{"opt":5,"reset":true}""", 5),
        // Adding a user again with the same dst (a script re-sending its list) must not kick its tunnels.
        4 => ($$"""{"opt":1,"args_bunch":[{{Entry(LiveUsers[worker % LiveUsers.Length], dst)}}]}""", 1),
        _ => ("""{"opt":9}""", 9),
    };

    private static IEnumerable<string> ExpectedUsers() =>
        LiveUsers.Concat(Enumerable.Range(0, Workers).SelectMany(w => Enumerable.Range(0, RequestsPerWorker).Where(i => i % 6 == 0).Select(i => FloodUser(w, i, 'b'))));

    private static string Post(string body, bool close) =>
        $"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n" +
        (close ? "Connection: close\r\n" : "") + "\r\n" + body;

    /// <summary>Checks one reply: valid JSON, res 1, and for a list every live user there.</summary>
    private static void AssertAnswered(string json, int opt)
    {
        using var reply = JsonDocument.Parse(json);
        Assert.True(reply.RootElement.GetProperty("res").GetInt32() == 1, json);
        if (opt == 4)
        {
            var paths = reply.RootElement.GetProperty("users").EnumerateArray().Select(u => u.GetProperty("path").GetString()).ToHashSet();
            Assert.All(LiveUsers, live => Assert.Contains(live, paths));
        }
        if (opt == 9) Assert.True(reply.RootElement.GetProperty("current_users").GetInt32() >= LiveUsers.Length, json);
    }

    /// <summary>One client of the flood: its own HttpClient, one raw keep-alive connection, or a new connection per request.</summary>
    private static async Task FloodAsync(ServerWithController server, int worker, string dst, Action answered)
    {
        int kind = worker % 3;
        using var http = new HttpClient { BaseAddress = server.Http.BaseAddress, Timeout = Bound };
        RawHttpConnection? keptAlive = kind == 1 ? await RawHttpConnection.OpenAsync(server.Controller.LocalEndPoint) : null;
        try
        {
            for (int i = 0; i < RequestsPerWorker; i++)
            {
                var (body, opt) = Command(worker, i, dst);
                string json;
                if (kind == 0)
                {
                    using var response = await http.PostAsync("/", new StringContent(body, Encoding.UTF8, "application/json")).WaitAsync(Bound);
                    Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
                    json = await response.Content.ReadAsStringAsync().WaitAsync(Bound);
                }
                else if (kind == 1)
                {
                    await keptAlive!.SendAsync(Post(body, close: false));
                    var response = await keptAlive.ReadResponseAsync().WaitAsync(Bound);
                    Assert.Equal(200, response.Status);
                    json = response.Body;
                }
                else
                {
                    await using var once = await RawHttpConnection.OpenAsync(server.Controller.LocalEndPoint);
                    await once.SendAsync(Post(body, close: true));
                    var response = await once.ReadResponseAsync().WaitAsync(Bound);
                    Assert.Equal(200, response.Status);
                    json = response.Body;
                }
                AssertAnswered(json, opt);
                answered();
            }
        }
        finally
        {
            if (keptAlive is not null) await keptAlive.DisposeAsync();
        }
    }

    /// <summary>A tunnel of the user about to be deleted: echoes until the server closes it, and returns the close code.</summary>
    private static async Task<ushort?> EchoUntilClosedAsync(RawWebSocketClient client)
    {
        var chunk = new byte[16 * 1024];
        while (true)
        {
            await client.SendBinaryAsync(chunk);
            for (int received = 0; received < chunk.Length;)
            {
                var frame = await client.ReadFrameAsync();
                if (frame is null) return null;
                if (frame.Value.Opcode == 0x8) return System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(frame.Value.Payload);
                received += frame.Value.Payload.Length;
            }
        }
    }

    private static async Task<RawWebSocketClient> PlainAsync(ServerWithController server, string path)
    {
        var client = await RawWebSocketClient.ConnectAsync(server.TunnelPort).WaitAsync(Bound);
        var (status, head) = await client.UpgradeAsync(path).WaitAsync(Bound);
        Assert.True(status == 101, head);
        return client;
    }

    private static Task<SmuxTestClient> SmuxAsync(ServerWithController server, string path) =>
        SmuxTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{server.TunnelPort}{path}"));

    [Fact]
    public async Task HundredsOfConcurrentCommands_DuringTraffic_AllAnswered_TableAsImplied_AndOnlyTheDeletedUsersTunnelsNotice()
    {
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start();
        foreach (var path in LiveUsers.Append("/victim"))
        {
            Assert.Equal(1, (await server.CommandAsync($$"""{"opt":1,"args_bunch":[{{Entry(path, backend.Address)}}]}""")).GetProperty("res").GetInt32());
        }

        var sessions = new List<SmuxTestClient>();
        var bystanders = new List<Bystander>();
        for (int u = 0; u < LiveUsers.Length; u++)
        {
            bystanders.Add(Bystander.Plain($"plain {LiveUsers[u]}", await PlainAsync(server, LiveUsers[u]), seed: 10 + u));
            var session = await SmuxAsync(server, LiveUsers[u]);
            sessions.Add(session);
            bystanders.Add(Bystander.Smux($"smux {LiveUsers[u]}", await session.OpenStreamAsync(), seed: 20 + u));
        }
        await using var victim = await PlainAsync(server, "/victim");
        var victimClosed = EchoUntilClosedAsync(victim);
        await using var victimSession = await SmuxAsync(server, "/victim");
        var victimStream = await victimSession.OpenStreamAsync();
        await victimStream.WriteAsync(new byte[] { 1 });
        Assert.Equal(new byte[] { 1 }, await victimStream.ReadExactlyAsync(1).WaitAsync(Bound));
        await Task.WhenAll(bystanders.Select(b => b.AdvancedAsync(3, Bound)));

        int answers = 0;
        var halfway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var flood = Task.WhenAll(Enumerable.Range(0, Workers).Select(w => Task.Run(() => FloodAsync(server, w, backend.Address, () =>
        {
            if (Interlocked.Increment(ref answers) == Workers * RequestsPerWorker / 2) halfway.TrySetResult();
        }))));
        // The bystanders flow during the flood, not just before or after it.
        var flowing = Task.WhenAll(bystanders.Select(b => b.AdvancedAsync(5, TimeSpan.FromMinutes(2))));

        // Amid the flood, the victim is deleted: its tunnel and session are kicked with 1008, nobody else's.
        await halfway.Task.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(1, (await server.CommandAsync("""{"opt":2,"args_bunch":[{"path":"/victim"}]}""")).GetProperty("res").GetInt32());
        Assert.Equal((ushort)1008, await victimClosed.WaitAsync(Bound));
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await victimSession.Closed.WaitAsync(Bound));

        await flood.WaitAsync(TimeSpan.FromMinutes(2));
        await flowing.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(Workers * RequestsPerWorker, answers);

        var listed = (await server.CommandAsync("""{"opt":4}""")).GetProperty("users").EnumerateArray().Select(u => u.GetProperty("path").GetString()!).Order(StringComparer.Ordinal);
        Assert.Equal(ExpectedUsers().Order(StringComparer.Ordinal), listed);

        await Task.WhenAll(bystanders.Select(b => b.StopAsync(Bound)));
        foreach (var session in sessions)
        {
            await FaultyNetwork.CloseSessionAsync(session);
            await session.DisposeAsync();
        }
        await server.AllTunnelsEndedAsync();
        Assert.Equal(0, server.Metrics.TunnelsActive);
    }
}
