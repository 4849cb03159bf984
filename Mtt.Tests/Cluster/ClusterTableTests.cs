using System.Text.Json;

namespace Mtt.Tests.Cluster;

/// <summary>Three daemon processes on one redis-server share one user table: a change made on any is served by all within 1 s.</summary>
public sealed class ClusterTableTests
{
    private static readonly TimeSpan Propagation = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task UserAddedOnA_IsServedOnBAndC_WithinOneSecond()
    {
        await using var rig = await ClusterRig.StartAsync(3);
        var (a, b, c) = (rig.Instances[0], rig.Instances[1], rig.Instances[2]);
        Assert.False(await ClusterRig.ServesAsync(b, "/added-on-a"));

        var reply = await rig.PostAsync(a, rig.AddUser("/added-on-a", "acct-1"));
        Assert.Equal(1, reply.GetProperty("res").GetInt32());
        // Timed from A's answer: by then Redis has the change.
        var onB = ClusterRig.UntilAsync(() => ClusterRig.ServesAsync(b, "/added-on-a"), Propagation, "served on B");
        var onC = ClusterRig.UntilAsync(() => ClusterRig.ServesAsync(c, "/added-on-a"), Propagation, "served on C");
        await Task.WhenAll(onB, onC);

        await using var tunnel = await ClusterRig.OpenAsync(c, "/added-on-a");
        Assert.True(await ClusterRig.EchoAsync(tunnel, "bytes relayed by C"u8.ToArray()));
    }

    [Fact]
    public async Task DeleteOnC_ClosesALiveTunnelOnA_WithinOneSecond()
    {
        await using var rig = await ClusterRig.StartAsync(3);
        var (a, c) = (rig.Instances[0], rig.Instances[2]);
        Assert.Equal(1, (await rig.PostAsync(a, rig.AddUser("/doomed"))).GetProperty("res").GetInt32());
        await using var tunnel = await ClusterRig.OpenAsync(a, "/doomed");
        Assert.True(await ClusterRig.EchoAsync(tunnel, [1, 2, 3]));
        await ClusterRig.UntilAsync(() => ClusterRig.ServesAsync(c, "/doomed"), Propagation, "the user reached C");

        Assert.Equal(1, (await rig.PostAsync(c, ClusterRig.DeleteUser("/doomed"))).GetProperty("res").GetInt32());
        var closed = tunnel.ReadUntilCloseAsync();
        Assert.Equal((ushort)1008, await closed.WaitAsync(Propagation));
        Assert.False(await ClusterRig.ServesAsync(a, "/doomed"));
        await a.Daemon.WaitForStderrAsync("1 tunnels of removed users closed").WaitAsync(ClusterRig.Bound);
    }

    [Fact]
    public async Task NodesAreListed_AndMetricsSayHowManyAreAliveAndWhichVersionIsServed()
    {
        await using var rig = await ClusterRig.StartAsync(3);
        var a = rig.Instances[0];
        Assert.Equal(1, (await rig.PostAsync(rig.Instances[1], rig.AddUser("/v1"))).GetProperty("res").GetInt32());
        await ClusterRig.UntilAsync(async () => (await rig.MetricsAsync(a)).Contains("mtt_cluster_table_version 1\n"), ClusterRig.Bound, "version 1 on A");

        string expected = string.Join(",", rig.Instances.Select(i => $"127.0.0.1:{i.Tunnel}").Order());
        await ClusterRig.UntilAsync(async () =>
        {
            var nodes = (await rig.PostAsync(a, """{"opt":6}""")).GetProperty("nodes");
            return string.Join(",", nodes.EnumerateArray().Select(n => n.GetProperty("address").GetString()).Order()) == expected;
        }, ClusterRig.Bound, "the three instances listed with their tunnel listeners");
        await ClusterRig.UntilAsync(async () => (await rig.MetricsAsync(a)).Contains("mtt_cluster_nodes_alive 3\n"), ClusterRig.Bound, "3 alive in A's metrics");
        Assert.Contains("mtt_cluster_redis_up 1\n", await rig.MetricsAsync(a));

        // An instance that stops withdraws its heartbeat.
        await rig.Instances[2].Daemon.TerminateAsync();
        await rig.Instances[2].Daemon.WaitForExitAsync(ClusterRig.Bound);
        await ClusterRig.UntilAsync(async () => (await rig.PostAsync(a, """{"opt":6}""")).GetProperty("nodes").GetArrayLength() == 2, ClusterRig.Bound, "2 listed");
    }

    [Fact]
    public async Task WithoutRedis_Opt6_SaysTheInstanceRunsAlone()
    {
        await using var daemon = Support.DaemonProcess.Start("-b", "127.0.0.1:0", "-c", "127.0.0.1:0");
        var (_, controller) = await daemon.Ports.WaitAsync(ClusterRig.Bound);
        using var http = new HttpClient();
        using var reply = await http.PostAsync($"http://127.0.0.1:{controller}", new StringContent("""{"opt":6}"""));
        var json = JsonDocument.Parse(await reply.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(2, json.GetProperty("res").GetInt32());
        Assert.Contains("-redis", json.GetProperty("err_string").GetString());
    }
}
