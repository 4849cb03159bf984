using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using Mtt.Tests.Support;

namespace Mtt.Tests.Daemon;

/// <summary>The controller token as an operator sets it: through the environment, and the warning when it is missing.</summary>
public sealed class DaemonControllerTokenTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TokenFromTheEnvironment_IsRequiredOnCommandsAndMetrics()
    {
        await using var backend = new EchoBackend();
        await using var daemon = DaemonProcess.Start(new Dictionary<string, string> { ["MTT_CONTROLLER_TOKEN"] = "env-token" },
            "-b", "127.0.0.1:0", "-c", "127.0.0.1:0");
        var (_, controllerPort) = await daemon.Ports.WaitAsync(Bound);
        using var http = new HttpClient { Timeout = Bound };

        using var scrape = await http.GetAsync($"http://127.0.0.1:{controllerPort}/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, scrape.StatusCode);
        using var command = await http.PostAsync($"http://127.0.0.1:{controllerPort}/", new StringContent("""{"opt":9}"""));
        Assert.Equal(HttpStatusCode.Unauthorized, command.StatusCode);

        await DaemonDrainTests.AddUserAsync(controllerPort, "/u1", backend.Address, token: "env-token");
        using var authorized = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{controllerPort}/metrics");
        authorized.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "env-token");
        using var metrics = await http.SendAsync(authorized);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.DoesNotContain("no token", daemon.Stderr);
    }

    [Fact]
    public async Task ControllerBeyondLoopback_WithoutAToken_LogsAWarning()
    {
        await using var daemon = DaemonProcess.Start(new Dictionary<string, string> { ["MTT_CONTROLLER_TOKEN"] = "" },
            "-b", "127.0.0.1:0", "-c", "0.0.0.0:0");
        await daemon.Ports.WaitAsync(Bound);
        Assert.Contains("WARN controller on 0.0.0.0:", daemon.Stderr);
        Assert.Contains("has no token", daemon.Stderr);
    }

    [Fact]
    public async Task ControllerOnLoopback_WithoutAToken_LogsNoWarning()
    {
        await using var daemon = DaemonProcess.Start(new Dictionary<string, string> { ["MTT_CONTROLLER_TOKEN"] = "" },
            "-b", "127.0.0.1:0", "-c", "127.0.0.1:0");
        await daemon.Ports.WaitAsync(Bound);
        Assert.DoesNotContain("has no token", daemon.Stderr);
    }
}
