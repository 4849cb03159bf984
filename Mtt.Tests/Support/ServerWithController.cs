using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Mtt.Core.Control.Http;
using Mtt.Core.Diagnostics;
using Mtt.Core.Listening;
using Mtt.Core.Routing;

namespace Mtt.Tests.Support;

/// <summary>The tunnel listener and the controller on loopback ports, sharing one route store and one set of metrics, as the daemon wires them.</summary>
public sealed class ServerWithController : IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly StringWriter _logText = new();
    private readonly TextWriter _logWriter;

    private ServerWithController(bool perUser, bool verbose, RouteStore? routes)
    {
        _logWriter = TextWriter.Synchronized(_logText);
        Log = new ServerLog(_logWriter, verbose);
        Routes = routes ?? new RouteStore();
        Metrics = new ServerMetrics(perUser);
        var options = new TunnelServerOptions { Bind = new IPEndPoint(IPAddress.Loopback, 0) };
        Tunnels = new TunnelListener(options, Routes, Log, Metrics);
        Tunnels.Start();
        Controller = new ControllerServer(new ControllerServerOptions { Bind = new IPEndPoint(IPAddress.Loopback, 0) }, Routes, Log, Metrics);
        Controller.Start();
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Controller.LocalEndPoint.Port}/"), Timeout = Bound };
    }

    public RouteStore Routes { get; }

    public ServerMetrics Metrics { get; }

    public ServerLog Log { get; }

    public TunnelListener Tunnels { get; }

    public ControllerServer Controller { get; }

    public HttpClient Http { get; }

    public int TunnelPort => Tunnels.LocalEndPoint.Port;

    public string LogText
    {
        get { lock (_logWriter) return _logText.ToString(); }
    }

    /// <summary>Completes once every tunnel connection has ended, and so has logged and counted its end.</summary>
    public Task AllTunnelsEndedAsync() => Tunnels.WhenNoConnections().WaitAsync(Bound);

    public static ServerWithController Start(bool perUser = false, bool verbose = false, RouteStore? routes = null) => new(perUser, verbose, routes);

    /// <summary>POSTs a command as curl -d does and returns the parsed reply.</summary>
    public async Task<JsonElement> CommandAsync(string json)
    {
        using var content = new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        using var response = await Http.PostAsync("/", content).WaitAsync(Bound);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync().WaitAsync(Bound)).RootElement.Clone();
    }

    public async Task<string> ScrapeAsync()
    {
        using var response = await Http.GetAsync("/metrics").WaitAsync(Bound);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync().WaitAsync(Bound);
    }

    /// <summary>The opt 4 entry of <paramref name="path"/>.</summary>
    public async Task<JsonElement> UserAsync(string path)
    {
        var reply = await CommandAsync("""{"opt":4}""");
        foreach (var user in reply.GetProperty("users").EnumerateArray())
        {
            if (user.GetProperty("path").GetString() == path) return user;
        }
        throw new Xunit.Sdk.XunitException($"no user {path} in {reply}");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Controller.DisposeAsync().AsTask().WaitAsync(Bound);
        await Tunnels.DisposeAsync().AsTask().WaitAsync(Bound);
    }
}
