using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Mtt.Tests.Support;

namespace Mtt.Tests.Daemon;

/// <summary>
/// The log as an operator meets it: under journald (JOURNAL_STREAM naming the daemon's real stderr) every line
/// carries its syslog priority and no timestamp; -log-format json gives one object a line; and a user's path is
/// written only with -verbose, whatever the format.
/// </summary>
public sealed partial class DaemonLogTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    // What a user would keep secret: each is a path that must not reach a log without -verbose.
    private const string UserPath = "/secret-user-path";
    private const string DeadUserPath = "/secret-dead-path";
    private const string UnknownPath = "/secret-unknown-path";
    private const string BadEntryPath = "/secret-bad-entry";

    [Fact]
    public async Task UnderJournald_EveryLineStartsWithItsPriority_AndHasNoTimestamp()
    {
        await using var fifo = await StderrFifo.CreateAsync();
        await using var daemon = DaemonProcess.StartWithStderrTo(fifo.Path, new Dictionary<string, string> { ["JOURNAL_STREAM"] = fifo.DeviceAndInode },
            "-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-verbose");
        fifo.StartReading();
        int tunnelPort = PortIn(await fifo.WaitForLineAsync("tunnel listener on").WaitAsync(Bound));
        int controllerPort = PortIn(await fifo.WaitForLineAsync("controller listening on").WaitAsync(Bound));

        await RunScenarioAsync(tunnelPort, controllerPort);
        await daemon.TerminateAsync();
        Assert.Equal(0, await daemon.WaitForExitAsync(Bound));
        await fifo.Closed.WaitAsync(Bound);

        var lines = fifo.Lines;
        Assert.NotEmpty(lines);
        Assert.All(lines, line => Assert.Matches(@"^<[3467]>(ERROR|WARN|INFO|DEBUG) ", line));
        Assert.DoesNotContain(lines, line => Timestamp().IsMatch(line));
        Assert.Contains(lines, line => line.StartsWith("<6>INFO tunnel listener on", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("<4>WARN ", StringComparison.Ordinal) && line.Contains("closed the tunnel with 1011"));
        Assert.Contains(lines, line => line.StartsWith("<7>DEBUG ", StringComparison.Ordinal) && line.Contains("tunnel open for user"));
    }

    [Fact]
    public async Task JournalStreamNamingAnotherFile_IsNotTheJournal_LinesKeepTheirTimestamp()
    {
        // A child of a unit inherits JOURNAL_STREAM with its stderr redirected: it must not write priorities into the pipe.
        using var directory = new TemporaryDirectory();
        string elsewhere = await StderrFifo.IdentityOfAsync(directory.Write("not-stderr", ""));
        await using var daemon = DaemonProcess.Start(new Dictionary<string, string> { ["JOURNAL_STREAM"] = elsewhere }, "-b", "127.0.0.1:0", "-c", "127.0.0.1:0");
        await daemon.Ports.WaitAsync(Bound);
        await daemon.TerminateAsync();
        Assert.Equal(0, await daemon.WaitForExitAsync(Bound));

        var lines = daemon.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, line => Assert.Matches(Timestamp(), line));
        Assert.DoesNotContain(lines, line => line.StartsWith('<'));
    }

    [Fact]
    public async Task JsonFormat_EveryLineIsAnObject_WithTimeLevelEventIdMessageAndFields()
    {
        await using var daemon = DaemonProcess.Start("-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-log-format", "json", "-verbose");
        var (tunnelPort, controllerPort) = await daemon.Ports.WaitAsync(Bound);
        await RunScenarioAsync(tunnelPort, controllerPort);
        await daemon.TerminateAsync();
        Assert.Equal(0, await daemon.WaitForExitAsync(Bound));

        var events = new List<JsonElement>();
        foreach (var line in daemon.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement.Clone();
            Assert.True(DateTimeOffset.TryParse(root.GetProperty("time").GetString(), out _), line);
            Assert.Contains(root.GetProperty("level").GetString(), new[] { "ERROR", "WARN", "INFO", "DEBUG" });
            Assert.False(string.IsNullOrEmpty(root.GetProperty("event").GetString()), line);
            Assert.True(root.GetProperty("id").GetInt32() > 0, line);
            Assert.False(string.IsNullOrEmpty(root.GetProperty("message").GetString()), line);
            events.Add(root);
        }

        var listening = Assert.Single(events, e => e.GetProperty("event").GetString() == "TunnelListening");
        Assert.Equal(1010, listening.GetProperty("id").GetInt32());
        Assert.Equal($"127.0.0.1:{tunnelPort}", listening.GetProperty("listening").GetString());
        Assert.False(listening.GetProperty("mux").GetBoolean());

        var failed = Assert.Single(events, e => e.GetProperty("event").GetString() == "BackendFailed");
        Assert.Equal("WARN", failed.GetProperty("level").GetString());
        Assert.Equal("acct-dead", failed.GetProperty("user").GetString());

        var closed = Assert.Single(events, e => e.GetProperty("event").GetString() == "TunnelClosed");
        Assert.Equal("acct-live", closed.GetProperty("user").GetString());
        Assert.Equal(12, closed.GetProperty("bytesFromClient").GetInt64());
        Assert.Equal(12, closed.GetProperty("bytesToClient").GetInt64());
        Assert.Equal("ClientClosed", closed.GetProperty("reason").GetString());

        var miss = Assert.Single(events, e => e.GetProperty("event").GetString() == "NoUserForPath");
        Assert.Equal(UnknownPath, miss.GetProperty("path").GetString());
    }

    [Theory]
    [InlineData("text", false)]
    [InlineData("text", true)]
    [InlineData("json", false)]
    [InlineData("json", true)]
    public async Task AUsersPath_IsLoggedOnlyWithVerbose(string format, bool verbose)
    {
        string[] flags = ["-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-log-format", format];
        await using var daemon = DaemonProcess.Start(verbose ? [.. flags, "-verbose"] : flags);
        var (tunnelPort, controllerPort) = await daemon.Ports.WaitAsync(Bound);
        await RunScenarioAsync(tunnelPort, controllerPort);
        await daemon.TerminateAsync();
        Assert.Equal(0, await daemon.WaitForExitAsync(Bound));

        string log = daemon.Stderr;
        // What happened is there either way: the command, the backend's failure (by the user's name).
        Assert.Contains("acct-dead", log);
        Assert.Contains("refused", log);
        if (verbose)
        {
            Assert.Contains(UnknownPath, log);
            Assert.Contains(BadEntryPath, log);
            Assert.Contains("tunnel open for user acct-live", log);
        }
        else
        {
            Assert.DoesNotContain("/secret-", log);
            Assert.DoesNotContain("DEBUG", log);
        }
    }

    /// <summary>
    /// Users added (one whose backend is down), a command refused for an entry that names its path, a tunnel that
    /// opens and closes, one whose backend fails (1011), and a request for a path with no user (404).
    /// </summary>
    private static async Task RunScenarioAsync(int tunnelPort, int controllerPort)
    {
        await using var backend = new EchoBackend();
        int closedPort;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closedPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        using var http = new HttpClient { Timeout = Bound };
        async Task<string> CommandAsync(string json)
        {
            var reply = await http.PostAsync($"http://127.0.0.1:{controllerPort}", new StringContent(json, Encoding.UTF8, "application/x-www-form-urlencoded"));
            return await reply.Content.ReadAsStringAsync();
        }
        Assert.Equal("""{"res":1}""", await CommandAsync($$"""{"opt":1,"args_bunch":[{"path":"{{UserPath}}","dst":"{{backend.Address}}","name":"acct-live"},{"path":"{{DeadUserPath}}","dst":"127.0.0.1:{{closedPort}}","name":"acct-dead"}]}"""));
        Assert.Contains(BadEntryPath, await CommandAsync($$"""{"opt":1,"args_bunch":[{"path":"{{BadEntryPath}}","dst":"no port"}]}"""));

        using (var client = new ClientWebSocket())
        {
            client.Options.AddSubProtocol("smux_off");
            await client.ConnectAsync(new Uri($"ws://127.0.0.1:{tunnelPort}{UserPath}"), CancellationToken.None).WaitAsync(Bound);
            await client.SendAsync(new byte[12], WebSocketMessageType.Binary, true, CancellationToken.None).WaitAsync(Bound);
            var buffer = new byte[12];
            int received = 0;
            while (received < 12) received += (await client.ReceiveAsync(buffer.AsMemory(received), CancellationToken.None).AsTask().WaitAsync(Bound)).Count;
            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).WaitAsync(Bound);
        }
        await using (var dead = await RawWebSocketClient.ConnectAsync(tunnelPort))
        {
            Assert.Equal(101, (await dead.UpgradeAsync(DeadUserPath).WaitAsync(Bound)).Status);
            Assert.Equal((ushort)1011, await dead.ReadUntilCloseAsync().WaitAsync(Bound));
        }
        await using (var stranger = await RawWebSocketClient.ConnectAsync(tunnelPort))
        {
            Assert.Equal(404, (await stranger.UpgradeAsync(UnknownPath).WaitAsync(Bound)).Status);
        }
    }

    private static int PortIn(string line) => int.Parse(ListenerPort().Match(line).Groups[1].Value);

    [GeneratedRegex(@"on 127\.0\.0\.1:(\d+)")]
    private static partial Regex ListenerPort();

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (ERROR|WARN|INFO|DEBUG) ")]
    private static partial Regex Timestamp();
}
