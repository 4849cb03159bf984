using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Mtt.Tests.Support;

namespace Mtt.Tests.Diagnostics;

/// <summary>
/// packaging/grafana/mtt-mu-server.json against a real Prometheus scraping the real daemon under load: every panel's
/// query must return data, so no panel of the imported dashboard is empty for a name that does not exist.
/// </summary>
public sealed class GrafanaDashboardTests
{
    private const string Token = "dashboard-Token";

    // Long enough for Prometheus to start, scrape twice (a rate needs two samples) and evaluate; far more than it takes.
    private static readonly TimeSpan DataBound = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    // What Grafana puts in for its variables: at a 1 s scrape interval, $__rate_interval is 4 scrapes at least.
    private static readonly (string Variable, string Value)[] GrafanaVariables =
    [
        ("$__rate_interval", "10s"),
        ("$__interval", "2s"),
        ("${instance}", ".*"),
        ("$instance", ".*"),
    ];

    [Fact]
    public void TheDashboard_IsImportable_WithAPrometheusDatasourceVariable()
    {
        using var dashboard = LoadDashboard();
        var root = dashboard.RootElement;
        Assert.Equal("mtt-mu-server", root.GetProperty("uid").GetString());
        var variables = root.GetProperty("templating").GetProperty("list").EnumerateArray().ToList();
        var datasource = Assert.Single(variables, v => v.GetProperty("type").GetString() == "datasource");
        Assert.Equal("prometheus", datasource.GetProperty("query").GetString());
        string reference = "${" + datasource.GetProperty("name").GetString() + "}";
        // Every panel and target uses the variable, so the import works with whatever Prometheus the operator picks.
        foreach (var panel in Panels(root))
        {
            Assert.Equal(reference, panel.GetProperty("datasource").GetProperty("uid").GetString());
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
                Assert.Equal(reference, target.GetProperty("datasource").GetProperty("uid").GetString());
        }
    }

    [Fact]
    public async Task EveryPanelQuery_ReturnsData_FromARealPrometheusScrapingTheDaemonUnderLoad()
    {
        using var dashboard = LoadDashboard();
        var queries = Panels(dashboard.RootElement)
            .SelectMany(panel => panel.GetProperty("targets").EnumerateArray()
                .Select(target => (Panel: panel.GetProperty("title").GetString()!, Expression: Substitute(target.GetProperty("expr").GetString()!))))
            .ToList();
        Assert.True(queries.Count >= 10, $"only {queries.Count} queries in the dashboard");

        using var directory = new TemporaryDirectory();
        await using var backend = new EchoBackend();
        using var closed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        closed.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0)); // bound, never listening: a dial is refused
        await using var daemon = DaemonProcess.Start(new Dictionary<string, string> { ["MTT_CONTROLLER_TOKEN"] = Token },
            "-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-metrics-per-user");
        var (tunnelPort, controllerPort) = await daemon.Ports.WaitAsync(Bound);
        using var controller = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{controllerPort}/"), Timeout = Bound };
        controller.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        await CommandAsync(controller, $$"""{"opt":1,"args_bunch":[{"path":"/dash-1","dst":"{{backend.Address}}","name":"acct-dash"},{"path":"/dash-dead","dst":"127.0.0.1:{{((System.Net.IPEndPoint)closed.LocalEndPoint!).Port}}"}]}""");
        await CommandAsync(controller, """{"opt":4}""");

        // A refusal (404) and a backend that refuses (1011), then tunnels moving bytes while Prometheus scrapes.
        using (var stranger = new ClientWebSocket())
            await Assert.ThrowsAsync<WebSocketException>(() => stranger.ConnectAsync(new Uri($"ws://127.0.0.1:{tunnelPort}/nobody"), CancellationToken.None).WaitAsync(Bound));
        using (var dead = await ConnectAsync(tunnelPort, "/dash-dead"))
            Assert.Equal(WebSocketMessageType.Close, (await dead.ReceiveAsync(new byte[16], CancellationToken.None).WaitAsync(Bound)).MessageType);
        using var load = new CancellationTokenSource();
        var loading = LoadAsync(tunnelPort, "/dash-1", load.Token);

        await using var prometheus = await PrometheusServer.StartAsync(directory, controllerPort, Token);
        var missing = new List<string>();
        var deadline = DateTime.UtcNow + DataBound;
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        foreach (var (panel, expression) in queries)
        {
            // Polled: Prometheus gives no signal when a scrape has landed.
            while ((await prometheus.QueryAsync(expression)).GetArrayLength() == 0)
            {
                if (DateTime.UtcNow > deadline || loading.IsCompleted)
                {
                    missing.Add($"{panel}: {expression}");
                    break;
                }
                await poll.WaitForNextTickAsync();
            }
        }
        // The dashboard's instance variable (label_values(mtt_users, instance)) lists the daemon.
        Assert.Contains($"127.0.0.1:{controllerPort}", await prometheus.LabelValuesAsync("instance", "mtt_users"));

        await load.CancelAsync();
        await loading.WaitAsync(Bound);
        Assert.True(missing.Count == 0, "panel queries with no data:\n" + string.Join("\n", missing) + "\nprometheus log:\n" + prometheus.Log);
    }

    private static string Substitute(string expression)
    {
        foreach (var (variable, value) in GrafanaVariables) expression = expression.Replace(variable, value, StringComparison.Ordinal);
        Assert.DoesNotContain("$", expression);
        return expression;
    }

    private static JsonDocument LoadDashboard()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string path = Path.Combine(directory.FullName, "packaging", "grafana", "mtt-mu-server.json");
            if (File.Exists(path)) return JsonDocument.Parse(File.ReadAllText(path));
        }
        throw new FileNotFoundException("packaging/grafana/mtt-mu-server.json not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Every panel with queries, those inside collapsed rows too.</summary>
    private static IEnumerable<JsonElement> Panels(JsonElement root)
    {
        foreach (var panel in root.GetProperty("panels").EnumerateArray())
        {
            if (panel.TryGetProperty("panels", out var nested))
            {
                foreach (var inner in nested.EnumerateArray()) yield return inner;
            }
            if (panel.TryGetProperty("targets", out _)) yield return panel;
        }
    }

    private static async Task CommandAsync(HttpClient controller, string json)
    {
        using var response = await controller.PostAsync("/", new StringContent(json, Encoding.UTF8)).WaitAsync(Bound);
        Assert.Contains("\"res\":1", await response.Content.ReadAsStringAsync());
    }

    private static async Task<ClientWebSocket> ConnectAsync(int tunnelPort, string path)
    {
        var client = new ClientWebSocket();
        client.Options.AddSubProtocol("smux_off");
        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{tunnelPort}{path}"), CancellationToken.None).WaitAsync(Bound);
        return client;
    }

    /// <summary>One tunnel open throughout, echoing 16 KiB ten times a second, and a short tunnel each second, until cancelled.</summary>
    private static async Task LoadAsync(int tunnelPort, string path, CancellationToken stop)
    {
        using var steady = await ConnectAsync(tunnelPort, path);
        var message = new byte[16 * 1024];
        var echo = new byte[message.Length];
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        try
        {
            for (int round = 0; await tick.WaitForNextTickAsync(stop); round++)
            {
                await steady.SendAsync(message, WebSocketMessageType.Binary, true, stop);
                for (int received = 0; received < echo.Length;)
                    received += (await steady.ReceiveAsync(echo.AsMemory(received), stop)).Count;
                if (round % 10 != 0) continue;
                using var brief = await ConnectAsync(tunnelPort, path);
                await brief.CloseAsync(WebSocketCloseStatus.NormalClosure, null, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
