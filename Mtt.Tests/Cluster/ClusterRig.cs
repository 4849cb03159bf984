using System.Diagnostics;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using Mtt.Tests.Support;

namespace Mtt.Tests.Cluster;

/// <summary>
/// A real redis-server and instances of the real daemon sharing it (<c>-redis</c>), an echo backend for their
/// users, and the controller calls the tests make. Everything is on free loopback ports and stopped on dispose.
/// </summary>
internal sealed class ClusterRig : IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private readonly List<DaemonProcess> _daemons = [];
    private readonly HttpClient _http = new() { Timeout = Bound };

    private ClusterRig(RedisServer redis, EchoBackend backend)
    {
        Redis = redis;
        Backend = backend;
    }

    public RedisServer Redis { get; }

    public EchoBackend Backend { get; }

    public List<Instance> Instances { get; } = [];

    public static async Task<ClusterRig> StartAsync(int instances)
    {
        var rig = new ClusterRig(await RedisServer.StartAsync(), new EchoBackend());
        var starting = new List<Task<Instance>>();
        for (int i = 0; i < instances; i++) starting.Add(rig.StartInstanceAsync());
        rig.Instances.AddRange(await Task.WhenAll(starting));
        return rig;
    }

    /// <summary>One more instance of the cluster, with <paramref name="extra"/> flags (a <c>-state</c> file).</summary>
    public async Task<Instance> StartInstanceAsync(params string[] extra)
    {
        string[] args = ["-b", "127.0.0.1:0", "-c", "127.0.0.1:0", "-redis", Redis.Configuration, "-redis-prefix", "test:", .. extra];
        var daemon = DaemonProcess.Start(args);
        lock (_daemons) _daemons.Add(daemon);
        var (tunnel, controller) = await daemon.Ports.WaitAsync(Bound);
        return new Instance(daemon, tunnel, controller);
    }

    public async Task<JsonElement> PostAsync(Instance instance, string json)
    {
        using var reply = await _http.PostAsync($"http://127.0.0.1:{instance.Controller}", new StringContent(json, Encoding.UTF8, "application/x-www-form-urlencoded"));
        return JsonDocument.Parse(await reply.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    public async Task<string> MetricsAsync(Instance instance) => await _http.GetStringAsync($"http://127.0.0.1:{instance.Controller}/metrics");

    /// <summary>opt 1 of one user of the rig's backend; <paramref name="limits"/> holds more fields (<c>"quota":1000</c>).</summary>
    public string AddUser(string path, string? name = null, string? limits = null) =>
        $$"""{"opt":1,"args_bunch":[{"path":"{{path}}","dst":"{{Backend.Address}}"{{(name is null ? "" : $",\"name\":\"{name}\"")}}{{(limits is null ? "" : "," + limits)}}}]}""";

    public static string DeleteUser(string path) => $$"""{"opt":2,"args_bunch":[{"path":"{{path}}"}]}""";

    /// <summary>A tunnel of <paramref name="path"/> on <paramref name="instance"/>; throws when the upgrade is refused (404).</summary>
    public static async Task<RawWebSocketClient> OpenAsync(Instance instance, string path)
    {
        using var timeout = new CancellationTokenSource(Bound);
        return await RawWebSocketClient.OpenTunnelAsync(instance.Tunnel, null, path, "smux_off", timeout.Token);
    }

    /// <summary>Sends <paramref name="payload"/> and reads its echo back whole; false when the tunnel ended first.</summary>
    public static async Task<bool> EchoAsync(RawWebSocketClient client, byte[] payload)
    {
        using var timeout = new CancellationTokenSource(Bound);
        await client.SendBinaryAsync(ReadOnlyMemory<byte>.Empty, payload, timeout.Token);
        var back = new byte[payload.Length];
        int read = 0;
        while (read < back.Length)
        {
            int n = await client.ReceiveAsync(back.AsMemory(read), timeout.Token);
            if (n == 0) return false;
            read += n;
        }
        return back.AsSpan().SequenceEqual(payload);
    }

    /// <summary>
    /// Asks <paramref name="condition"/> until it holds, at most every 20 ms, and returns how long that took; fails
    /// the test after <paramref name="deadline"/>. Each ask is a real request: the state is observed, not waited for.
    /// </summary>
    public static Task<TimeSpan> UntilAsync(Func<Task<bool>> condition, TimeSpan deadline, string what) => UntilAsync(condition, deadline, () => what);

    /// <summary>As above, with the failure's text made when it fails (it may show the last state observed).</summary>
    public static async Task<TimeSpan> UntilAsync(Func<Task<bool>> condition, TimeSpan deadline, Func<string> what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await condition()) return clock.Elapsed;
            if (clock.Elapsed > deadline) Assert.Fail($"not within {deadline.TotalSeconds} s: {what()}");
            await Task.Delay(20);
        }
    }

    /// <summary>Whether a client of <paramref name="path"/> gets its tunnel on <paramref name="instance"/> now.</summary>
    public static async Task<bool> ServesAsync(Instance instance, string path)
    {
        await using var client = await RawWebSocketClient.ConnectAsync(instance.Tunnel);
        var (status, _) = await client.UpgradeAsync(path);
        return status == 101;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var daemon in _daemons) await daemon.DisposeAsync();
        await Backend.DisposeAsync();
        await Redis.DisposeAsync();
        _http.Dispose();
    }

    internal sealed record Instance(DaemonProcess Daemon, int Tunnel, int Controller);
}
