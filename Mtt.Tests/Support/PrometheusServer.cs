using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Mtt.Tests.Support;

/// <summary>
/// Debian's real <c>prometheus</c>, on a free loopback port with a temporary config and storage, scraping one
/// controller's <c>GET /metrics</c> every second with its bearer token, as the README's scrape job does.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    public const string Executable = "/usr/bin/prometheus";

    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HttpClient _http;

    private PrometheusServer(Process process, int port)
    {
        _process = process;
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    /// <summary>Starts Prometheus scraping <c>127.0.0.1:<paramref name="controllerPort"/></c>; returns once it says it is ready.</summary>
    public static async Task<PrometheusServer> StartAsync(TemporaryDirectory directory, int controllerPort, string token)
    {
        Assert.True(File.Exists(Executable), $"{Executable} is not installed: run .ci/install-test-prerequisites.sh (apt-get install prometheus)");
        string tokenFile = directory.Write("mtt-token", token);
        string config = directory.Write("prometheus.yml", $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: mtt-mu-server
                authorization:
                  credentials_file: {tokenFile}
                static_configs:
                  - targets: ['127.0.0.1:{controllerPort}']
            """);
        Directory.CreateDirectory(directory.File("data"));
        int port = FreePort();
        var info = new ProcessStartInfo(Executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add($"--config.file={config}");
        info.ArgumentList.Add($"--storage.tsdb.path={directory.File("data")}");
        info.ArgumentList.Add($"--web.listen-address=127.0.0.1:{port}");
        var process = new Process { StartInfo = info };
        var server = new PrometheusServer(process, port);
        process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            await server._ready.Task.WaitAsync(StartBound);
        }
        catch (TimeoutException)
        {
            await server.DisposeAsync();
            Assert.Fail($"prometheus did not get ready within {StartBound}:\n{server.Log}");
        }
        return server;
    }

    /// <summary>An instant query through the HTTP API (<c>/api/v1/query</c>): the result's series.</summary>
    public async Task<JsonElement> QueryAsync(string expression)
    {
        string body = await _http.GetStringAsync("api/v1/query?query=" + Uri.EscapeDataString(expression));
        var root = JsonDocument.Parse(body).RootElement;
        Assert.True(root.GetProperty("status").GetString() == "success", $"query {expression} failed: {body}");
        return root.GetProperty("data").GetProperty("result").Clone();
    }

    /// <summary>The values of <paramref name="label"/> on the series that match <paramref name="match"/> (<c>/api/v1/label/.../values</c>).</summary>
    public async Task<string[]> LabelValuesAsync(string label, string match)
    {
        string body = await _http.GetStringAsync($"api/v1/label/{label}/values?match[]={Uri.EscapeDataString(match)}");
        return [.. JsonDocument.Parse(body).RootElement.GetProperty("data").EnumerateArray().Select(v => v.GetString()!)];
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
        if (line.Contains("Server is ready to receive web requests", StringComparison.Ordinal)) _ready.TrySetResult();
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
