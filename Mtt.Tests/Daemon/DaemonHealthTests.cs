using System.Net;
using System.Net.WebSockets;
using Mtt.Tests.Support;

namespace Mtt.Tests.Daemon;

/// <summary>The real process: <c>GET /healthz</c> turns 503 when SIGTERM starts the drain, while a tunnel still runs.</summary>
public sealed class DaemonHealthTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Sigterm_TurnsHealthzTo503_DuringTheDrain()
    {
        await using var backend = new EchoBackend();
        await using var daemon = DaemonProcess.Start("-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-drain-timeout=5m");
        var (tunnelPort, controllerPort) = await daemon.Ports.WaitAsync(Bound);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{controllerPort}/"), Timeout = Bound };
        using (var serving = await http.GetAsync("/healthz").WaitAsync(Bound))
            Assert.Equal(HttpStatusCode.OK, serving.StatusCode);

        // An open tunnel keeps the drain going, so the server is still there to ask.
        await DaemonDrainTests.AddUserAsync(controllerPort, "/u1", backend.Address);
        using var client = new ClientWebSocket();
        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{tunnelPort}/u1"), CancellationToken.None).WaitAsync(Bound);
        await DaemonDrainTests.EchoAsync(client, "before the signal");
        await daemon.TerminateAsync();
        await daemon.WaitForStderrAsync("draining").WaitAsync(Bound);

        using (var draining = await http.GetAsync("/healthz").WaitAsync(Bound))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, draining.StatusCode);
        await DaemonDrainTests.EchoAsync(client, "during the drain");

        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(0, await daemon.WaitForExitAsync(Bound));
    }
}
