using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Mtt.Core.Control.Http;
using Mtt.Core.Diagnostics;
using Mtt.Core.Routing;

namespace Mtt.Tests.Control;

/// <summary>A <see cref="ControllerServer"/> on an ephemeral loopback port, with its store, its log and an HttpClient.</summary>
internal sealed class RunningController : IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>Longer than <see cref="Bound"/>: a close that a test sees within it came from the behaviour under test, not an idle timeout.</summary>
    public static readonly TimeSpan LongReadTimeout = TimeSpan.FromMinutes(1);

    private readonly StringWriter _logText = new();
    private readonly TextWriter _logWriter;

    private RunningController(ControllerLimits? limits, bool verbose, ControllerToken? token = null, TimeProvider? time = null)
    {
        // A synchronised writer locks on itself, so reading under the same lock sees whole lines.
        _logWriter = TextWriter.Synchronized(_logText);
        Log = new ServerLog(_logWriter, verbose);
        Server = new ControllerServer(new ControllerServerOptions
        {
            Bind = new IPEndPoint(IPAddress.Loopback, 0),
            Limits = limits ?? new ControllerLimits { ReadTimeout = LongReadTimeout },
            Token = token,
            Time = time ?? TimeProvider.System,
        }, Routes, Log);
        Server.Start();
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Server.LocalEndPoint.Port}/"), Timeout = Bound };
    }

    public RouteStore Routes { get; } = new();

    public ServerLog Log { get; }

    public ControllerServer Server { get; }

    public HttpClient Http { get; }

    /// <summary>Read only once the server has answered: every line it logs for a request comes before the answer.</summary>
    public string LogText
    {
        get { lock (_logWriter) return _logText.ToString(); }
    }

    public static RunningController Start(ControllerLimits? limits = null, bool verbose = false, TimeProvider? time = null) => new(limits, verbose, time: time);

    /// <summary>A controller that requires <c>Authorization: Bearer <paramref name="token"/></c>.</summary>
    public static RunningController StartWithToken(string token) => new(null, verbose: false, new ControllerToken(token));

    public Task<RawHttpConnection> ConnectAsync() => RawHttpConnection.OpenAsync(Server.LocalEndPoint);

    /// <summary>POSTs <paramref name="json"/> as curl -d does (form content type) and returns the status and the parsed reply.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Reply, string Body)> PostAsync(string json, string path = "/")
    {
        using var content = new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        return await PostAsync(content, path);
    }

    public async Task<(HttpStatusCode Status, JsonElement Reply, string Body)> PostAsync(HttpContent content, string path = "/")
    {
        using var response = await Http.PostAsync(path, content).WaitAsync(Bound);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        string body = await response.Content.ReadAsStringAsync().WaitAsync(Bound);
        return (response.StatusCode, JsonDocument.Parse(body).RootElement.Clone(), body);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync().AsTask().WaitAsync(Bound);
    }
}
