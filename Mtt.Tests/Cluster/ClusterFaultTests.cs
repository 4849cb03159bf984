using Mtt.Tests.Support;

namespace Mtt.Tests.Cluster;

/// <summary>
/// Redis killed, restarted empty, paused with SIGSTOP, or down while an instance restarts: no tunnel is cut and known
/// users keep being served; changes meanwhile get <c>res: 2</c> and are not applied later; on its return the
/// instances resync (or write the table back into an empty Redis) and say so in the log and the metrics.
/// </summary>
public sealed class ClusterFaultTests
{
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task RedisKilledMidTrafficAndRestarted_NoTunnelClosed_ChangesRefusedMeanwhile_ThenResynced()
    {
        await using var rig = await ClusterRig.StartAsync(3);
        var (a, b, c) = (rig.Instances[0], rig.Instances[1], rig.Instances[2]);
        Assert.Equal(1, (await rig.PostAsync(a, rig.AddUser("/live"))).GetProperty("res").GetInt32());
        await ClusterRig.UntilAsync(() => ClusterRig.ServesAsync(b, "/live"), ClusterRig.Bound, "served on B");
        await using var tunnel = await ClusterRig.OpenAsync(b, "/live");
        Assert.True(await ClusterRig.EchoAsync(tunnel, new byte[5000]));

        await rig.Redis.KillAsync();
        var refused = await rig.PostAsync(c, rig.AddUser("/during"));
        Assert.Equal(2, refused.GetProperty("res").GetInt32());
        Assert.Contains("Redis is unreachable", refused.GetProperty("err_string").GetString());
        Assert.True(await ClusterRig.EchoAsync(tunnel, new byte[5000]));
        Assert.True(await ClusterRig.ServesAsync(a, "/live"), "a new client of a known user is served while Redis is down");
        await ClusterRig.UntilAsync(async () => (await rig.MetricsAsync(a)).Contains("mtt_cluster_redis_up 0\n"), Recovery, "A's metrics say Redis is down");

        await rig.Redis.RestartAsync();
        // The restarted Redis is empty: an instance writes the table back, and changes are taken again.
        await ClusterRig.UntilAsync(async () => (await rig.PostAsync(c, rig.AddUser("/after"))).GetProperty("res").GetInt32() == 1,
            Recovery, "a change accepted once Redis is back");
        await ClusterRig.UntilAsync(() => ClusterRig.ServesAsync(a, "/after"), TimeSpan.FromSeconds(2), "the change served on A");
        await ClusterRig.UntilAsync(() => ClusterRig.ServesAsync(b, "/after"), TimeSpan.FromSeconds(2), "the change served on B");
        Assert.False(await ClusterRig.ServesAsync(a, "/during"));
        foreach (var instance in rig.Instances) Assert.True(await ClusterRig.ServesAsync(instance, "/live"));
        Assert.True(await ClusterRig.EchoAsync(tunnel, new byte[5000]), "the tunnel opened before the outage still relays");

        await a.Daemon.WaitForStderrAsync("Redis reachable again").WaitAsync(Recovery);
        await ClusterRig.UntilAsync(async () => (await rig.MetricsAsync(a)).Contains("mtt_cluster_redis_up 1\n"), Recovery, "A's metrics say Redis is up");
    }

    [Fact]
    public async Task RedisPaused_ChangeRefused_AndNotAppliedWhenRedisWakesUp()
    {
        await using var rig = await ClusterRig.StartAsync(2);
        var (a, b) = (rig.Instances[0], rig.Instances[1]);
        Assert.Equal(1, (await rig.PostAsync(a, rig.AddUser("/before"))).GetProperty("res").GetInt32());
        await using var tunnel = await ClusterRig.OpenAsync(a, "/before");

        await rig.Redis.PauseAsync();
        var refused = await rig.PostAsync(a, rig.AddUser("/paused")).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, refused.GetProperty("res").GetInt32());
        Assert.Contains("not applied", refused.GetProperty("err_string").GetString());
        Assert.True(await ClusterRig.EchoAsync(tunnel, [7, 7, 7]));
        Assert.True(await ClusterRig.ServesAsync(b, "/before"));

        await rig.Redis.ResumeAsync();
        // The refused change reached Redis before the pause ended; its deadline has passed, so it ran as a no-op:
        // the next change gets version 2, not 3.
        await ClusterRig.UntilAsync(async () => (await rig.PostAsync(b, rig.AddUser("/later"))).GetProperty("res").GetInt32() == 1,
            Recovery, "a change accepted after the pause");
        await ClusterRig.UntilAsync(async () => (await rig.MetricsAsync(a)).Contains("mtt_cluster_table_version 2\n"), Recovery, "A at version 2");
        Assert.Contains("mtt_cluster_table_version 2\n", await rig.MetricsAsync(b));
        Assert.False(await ClusterRig.ServesAsync(a, "/paused"));
        Assert.False(await ClusterRig.ServesAsync(b, "/paused"));
        Assert.True(await ClusterRig.EchoAsync(tunnel, [8, 8, 8]));
    }

    [Fact]
    public async Task InstanceRestartedWhileRedisIsDown_ServesFromItsStateCopy()
    {
        using var dir = new TemporaryDirectory();
        string state = dir.File("users.json");
        await using var rig = await ClusterRig.StartAsync(0);
        var first = await rig.StartInstanceAsync("-state", state);
        Assert.Equal(1, (await rig.PostAsync(first, rig.AddUser("/kept", "acct-9"))).GetProperty("res").GetInt32());
        await rig.Redis.KillAsync();
        await first.Daemon.TerminateAsync();
        Assert.Equal(0, await first.Daemon.WaitForExitAsync(ClusterRig.Bound));

        var second = await rig.StartInstanceAsync("-state", state);
        await second.Daemon.WaitForStderrAsync("unreachable at start").WaitAsync(ClusterRig.Bound);
        await using (var tunnel = await ClusterRig.OpenAsync(second, "/kept"))
            Assert.True(await ClusterRig.EchoAsync(tunnel, "served from the -state copy"u8.ToArray()));
        var refused = await rig.PostAsync(second, ClusterRig.DeleteUser("/kept"));
        Assert.Equal(2, refused.GetProperty("res").GetInt32());

        // Redis comes back empty: the instance writes its copy into it, and changes go through again.
        await rig.Redis.RestartAsync();
        await second.Daemon.WaitForStderrAsync("wrote this instance's 1 users").WaitAsync(Recovery);
        Assert.Equal(1, (await rig.PostAsync(second, rig.AddUser("/new"))).GetProperty("res").GetInt32());
        var third = await rig.StartInstanceAsync();
        Assert.True(await ClusterRig.ServesAsync(third, "/kept"));
        Assert.True(await ClusterRig.ServesAsync(third, "/new"));
    }
}
