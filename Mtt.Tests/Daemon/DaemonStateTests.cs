using System.Net.Http;
using System.Text;
using System.Text.Json;
using Mtt.Tests.Support;

namespace Mtt.Tests.Daemon;

/// <summary><c>-state</c> and <c>-metrics-per-user</c> on the real executable: users survive a restart, even a kill in the middle of changes.</summary>
public sealed class DaemonStateTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static async Task<JsonElement> PostAsync(HttpClient http, int port, string json)
    {
        using var reply = await http.PostAsync($"http://127.0.0.1:{port}", new StringContent(json, Encoding.UTF8, "application/x-www-form-urlencoded"));
        return JsonDocument.Parse(await reply.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    // Writer w's op k: every third deletes the path the op before added, the others add a path of their own.
    private static string Op(int writer, int k) => k % 3 == 2
        ? $$"""{"opt":2,"args_bunch":[{"path":"/w{{writer}}-{{k - 1}}"}]}"""
        : $$"""{"opt":1,"args_bunch":[{"path":"/w{{writer}}-{{k}}","dst":"127.0.0.1:{{1000 + k}}","name":"writer {{writer}}"}]}""";

    private static SortedSet<string> After(int writer, int ops)
    {
        var paths = new SortedSet<string>(StringComparer.Ordinal);
        for (int k = 0; k < ops; k++)
        {
            if (k % 3 == 2) paths.Remove($"/w{writer}-{k - 1}");
            else paths.Add($"/w{writer}-{k}");
        }
        return paths;
    }

    [Fact]
    public async Task UsersSurviveAKill_InTheMiddleOfAConcurrentStreamOfChanges()
    {
        using var dir = new TemporaryDirectory();
        string state = dir.File("users.json");
        const int Writers = 4;
        const int AckedBeforeKill = 150;
        var acked = new int[Writers];

        await using (var first = DaemonProcess.Start("-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-state", state))
        {
            var (_, controller) = await first.Ports.WaitAsync(Bound);
            using var http = new HttpClient { Timeout = Bound };
            var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            int total = 0;
            var writers = new Task[Writers];
            for (int w = 0; w < Writers; w++)
            {
                int writer = w;
                writers[w] = Task.Run(async () =>
                {
                    try
                    {
                        for (int k = 0; ; k++)
                        {
                            var reply = await PostAsync(http, controller, Op(writer, k));
                            Assert.Equal(1, reply.GetProperty("res").GetInt32());
                            acked[writer] = k + 1;
                            if (Interlocked.Increment(ref total) >= AckedBeforeKill) enough.TrySetResult();
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException or JsonException)
                    {
                        // The server was killed under this request: it may or may not have been applied.
                    }
                });
            }
            await enough.Task.WaitAsync(Bound);
            // SIGKILL while the writers are still sending: no shutdown code runs.
            await first.KillAsync().WaitAsync(Bound);
            await Task.WhenAll(writers).WaitAsync(Bound);
        }

        await using var second = DaemonProcess.Start("-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-state", state);
        var (_, port) = await second.Ports.WaitAsync(Bound);
        Assert.Contains("loaded", second.Stderr);
        using var client = new HttpClient { Timeout = Bound };
        var users = (await PostAsync(client, port, """{"opt":4}""")).GetProperty("users");
        var loaded = new SortedSet<string>[Writers];
        for (int w = 0; w < Writers; w++) loaded[w] = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var user in users.EnumerateArray())
        {
            string path = user.GetProperty("path").GetString()!;
            int writer = path[2] - '0';
            Assert.Equal($"writer {writer}", user.GetProperty("name").GetString());
            loaded[writer].Add(path);
        }
        for (int w = 0; w < Writers; w++)
        {
            // Every acknowledged change is there; the one in flight at the kill may be too.
            bool matches = loaded[w].SetEquals(After(w, acked[w])) || loaded[w].SetEquals(After(w, acked[w] + 1));
            Assert.True(matches, $"writer {w}: {acked[w]} acknowledged, loaded {string.Join(",", loaded[w])}");
        }
    }

    [Fact]
    public async Task CorruptStateFile_StopsTheStart_NamingTheFile_AndLeavesItAlone()
    {
        using var dir = new TemporaryDirectory();
        string state = dir.Write("users.json", """{"version":1,"users":[{"path":"/a",""");
        await using var daemon = DaemonProcess.Start("-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-state", state);
        Assert.Equal(1, await daemon.WaitForExitAsync(Bound));
        Assert.Contains($"the state file {state} is corrupt", daemon.Stderr);
        Assert.Equal("""{"version":1,"users":[{"path":"/a",""", File.ReadAllText(state));
    }

    [Fact]
    public async Task MetricsPerUser_OnTheDaemon_ServesPerUserSeries_AfterARestart()
    {
        using var dir = new TemporaryDirectory();
        string state = dir.File("users.json");
        await using (var first = DaemonProcess.Start("-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-state", state))
        {
            var (_, port) = await first.Ports.WaitAsync(Bound);
            using var http = new HttpClient { Timeout = Bound };
            Assert.Equal(1, (await PostAsync(http, port, """{"opt":1,"args_bunch":[{"path":"/p","dst":"127.0.0.1:9","name":"acct-9"}]}""")).GetProperty("res").GetInt32());
            await first.TerminateAsync();
            Assert.Equal(0, await first.WaitForExitAsync(Bound));
        }

        await using var second = DaemonProcess.Start("-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-state", state, "-metrics-per-user");
        var (_, controller) = await second.Ports.WaitAsync(Bound);
        using var client = new HttpClient { Timeout = Bound };
        string text = await client.GetStringAsync($"http://127.0.0.1:{controller}/metrics").WaitAsync(Bound);
        Assert.Contains("\nmtt_users 1\n", text);
        Assert.Contains("mtt_user_tunnels_active{user=\"acct-9\"} 0\n", text);
    }
}
