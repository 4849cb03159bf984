using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Mtt.Core.Diagnostics;
using Mtt.Core.Listening;
using Mtt.Core.Routing;
using Mtt.Core.Transport;
using Mtt.Tests.Support;

namespace Mtt.Tests.Hardening;

/// <summary>-max-connections, -max-handshakes, and running out of file descriptors.</summary>
public class ResourceLimitTests
{
    private static readonly TimeSpan Bound = AttackedServer.Bound;

    [Fact]
    public async Task ConnectionsBeyondTheLimit_AreClosedAtOnce_LoggedOnce_AndServedOnceOthersEnd()
    {
        await using var backend = new EchoBackend();
        var logText = new StringWriter();
        var log = new ServerLog(TextWriter.Synchronized(logText), verbose: false);
        var metrics = new ServerMetrics();
        await using var listener = StartListener(backend, log, maxConnections: 2, metrics: metrics);
        int port = listener.LocalEndPoint.Port;
        var first = await UpgradedAsync(port);
        var second = await UpgradedAsync(port);

        for (int i = 0; i < 2; i++)
        {
            await using var refused = await RawWebSocketClient.ConnectAsync(port).WaitAsync(Bound);
            Assert.Empty(await StreamReading.ReadToEndAsync(refused.Stream).WaitAsync(Bound));
        }
        Assert.Equal(2, listener.ActiveConnections);
        Assert.Single(logText.ToString().Split('\n'), line => line.Contains("-max-connections", StringComparison.Ordinal));
        Assert.Equal(2, metrics.Refused(HandshakeRefusal.MaxConnections));

        foreach (var client in new[] { first, second })
        {
            await client.SendCloseAsync(1000).WaitAsync(Bound);
            Assert.Equal((ushort)1000, await client.ReadUntilCloseAsync().WaitAsync(Bound));
            await client.DisposeAsync();
        }
        await listener.WhenNoConnections().WaitAsync(Bound);
        await AssertEchoesAsync(await UpgradedAsync(port));
    }

    [Fact]
    public async Task HandshakeBeyondTheLimit_WaitsForASlot_AndIsServedOnceOneFrees()
    {
        await using var backend = new EchoBackend();
        using var certificate = SelfSignedCertificate.Create("localhost");
        await using var listener = StartListener(backend, ServerLog.Silent, maxHandshakes: 1, certificate: certificate);
        int port = listener.LocalEndPoint.Port;
        // The test holds the only slot, as a handshake being computed would: a connection holds one only then.
        await listener.HandshakeSlots.WaitAsync().WaitAsync(Bound);

        var waiting = RawWebSocketClient.ConnectAsync(port, certificate);
        // Proving an absence takes a wait: on loopback a TLS handshake that had a slot would be done long before.
        await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromMilliseconds(300)));
        Assert.False(waiting.IsCompleted, "a TLS handshake went ahead while the only slot was held");

        listener.HandshakeSlots.Release();
        var next = await waiting.WaitAsync(Bound);
        var (nextStatus, nextHead) = await next.UpgradeAsync(AttackedServer.UserPath).WaitAsync(Bound);
        Assert.True(nextStatus == 101, nextHead);
        await AssertEchoesAsync(next);
        // Every slot is back once the handshakes are done.
        Assert.Equal(1, listener.HandshakeSlots.CurrentCount);
    }

    [Fact]
    public async Task LowOpenFileLimit_CapsConnections_SoAFloodNeverExhaustsDescriptors_AndTheDaemonServesOn()
    {
        await using var backend = new EchoBackend();
        // About 80 descriptors go to the runtime and its assemblies at start. Running out of the rest is
        // not survivable (the runtime fails fast when it cannot get one), so the daemon caps its
        // connections at what 160 descriptors carry: (160 - 128) / 2 = 16.
        await using var daemon = DaemonProcess.StartWithOpenFileLimit(160, "-b", "127.0.0.1:0", "-c", "127.0.0.1:0");
        var (tunnelPort, controllerPort) = await daemon.Ports.WaitAsync(Bound);
        Assert.Contains("the open-file limit allows 16 tunnels, below -max-connections 10000: limiting to 16", daemon.Stderr);
        using (var http = new HttpClient { Timeout = Bound })
        {
            var reply = await http.PostAsync($"http://127.0.0.1:{controllerPort}/",
                new StringContent($$"""{"opt":1,"args_bunch":[{"path":"{{AttackedServer.UserPath}}","dst":"{{backend.Address}}"}]}"""));
            Assert.Contains("\"res\":1", await reply.Content.ReadAsStringAsync());
        }
        await AssertEchoesAsync(await UpgradedAsync(tunnelPort));

        var flood = new List<Socket>();
        try
        {
            for (int i = 0; i < 200; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                flood.Add(socket);
                await socket.ConnectAsync(IPAddress.Loopback, tunnelPort).WaitAsync(Bound);
            }
            await daemon.WaitForStderrAsync("connections open (-max-connections): closing new ones at once").WaitAsync(Bound);
        }
        finally
        {
            foreach (var socket in flood) socket.Dispose();
        }

        // Connections over the cap were closed at once, so descriptors never ran out: the daemon is alive
        // and, once the flood's own connections have ended, serves again.
        var recovering = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await AssertEchoesAsync(await UpgradedAsync(tunnelPort));
                break;
            }
            catch (Exception e) when (e is EndOfStreamException or IOException or SocketException)
            {
                // Still at the cap while the flood's ends are being seen: such a connection is closed at once.
                Assert.True(recovering.Elapsed < Bound, $"not served again within {Bound}: {e.Message}\n{daemon.Stderr}");
            }
        }
        Assert.DoesNotContain("accept failed", daemon.Stderr);
        Assert.DoesNotContain("Out of memory", daemon.Stderr);
        Assert.DoesNotContain("Unhandled exception", daemon.Stderr);
    }

    private static TunnelListener StartListener(EchoBackend backend, ServerLog log, int maxConnections = TunnelServerOptions.DefaultMaxConnections,
        int maxHandshakes = TunnelServerOptions.DefaultMaxHandshakes, X509Certificate2? certificate = null, ServerMetrics? metrics = null)
    {
        var routes = new RouteStore();
        BackendAddress.TryParse(backend.Address, out var address, out _);
        routes.Update(table => table.WithAdded([new Route(AttackedServer.UserPath, address!)]));
        var options = new TunnelServerOptions
        {
            Bind = new IPEndPoint(IPAddress.Loopback, 0),
            Certificate = certificate is null ? null : new ServerCertificate(SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true)),
            MaxConnections = maxConnections,
            MaxHandshakes = maxHandshakes,
        };
        var listener = new TunnelListener(options, routes, log, metrics);
        listener.Start();
        return listener;
    }

    private static async Task<RawWebSocketClient> UpgradedAsync(int port)
    {
        var client = await RawWebSocketClient.ConnectAsync(port).WaitAsync(Bound);
        var (status, head) = await client.UpgradeAsync(AttackedServer.UserPath).WaitAsync(Bound);
        Assert.True(status == 101, head);
        return client;
    }

    /// <summary>An echo through an upgraded client, then a clean close; disposes the client.</summary>
    private static async Task AssertEchoesAsync(RawWebSocketClient client)
    {
        await using (client)
        {
            await client.AssertEchoesThenClosesAsync("served", Bound);
        }
    }
}
