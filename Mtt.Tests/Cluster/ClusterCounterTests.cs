using System.Text.Json;

namespace Mtt.Tests.Cluster;

/// <summary>opt 4 and opt 5 answer for the whole cluster; opt 5's reset reports every byte exactly once, whichever instance asks.</summary>
public sealed class ClusterCounterTests
{
    private static readonly TimeSpan FlushBound = TimeSpan.FromSeconds(5);

    private static JsonElement User(JsonElement reply, string list, string path) =>
        reply.GetProperty(list).EnumerateArray().Single(u => u.GetProperty("path").GetString() == path);

    [Fact]
    public async Task CountersAreSummedOverTrafficOnAllThree()
    {
        await using var rig = await ClusterRig.StartAsync(3);
        Assert.Equal(1, (await rig.PostAsync(rig.Instances[0], rig.AddUser("/counted", "acct-7"))).GetProperty("res").GetInt32());
        var tunnels = new List<Support.RawWebSocketClient>();
        long sent = 0;
        for (int i = 0; i < 3; i++)
        {
            var instance = rig.Instances[i];
            await ClusterRig.UntilAsync(() => ClusterRig.ServesAsync(instance, "/counted"), ClusterRig.Bound, $"served on instance {i}");
            var tunnel = await ClusterRig.OpenAsync(instance, "/counted");
            tunnels.Add(tunnel);
            // A different amount on each, so a sum that missed one or counted one twice cannot come out right.
            byte[] payload = new byte[1000 * (i + 1) + 7];
            Assert.True(await ClusterRig.EchoAsync(tunnel, payload));
            sent += payload.Length;
        }

        try
        {
            foreach (var asked in rig.Instances)
            {
                string seen = "";
                await ClusterRig.UntilAsync(async () =>
                {
                    // Six tunnels opened: each instance's probe that found the user (a 101, then closed) and its tunnel.
                    var user = User(await rig.PostAsync(asked, """{"opt":4}"""), "users", "/counted");
                    seen = user.ToString();
                    return user.GetProperty("bytes_from_client").GetInt64() == sent && user.GetProperty("bytes_to_client").GetInt64() == sent
                        && user.GetProperty("total_tunnels").GetInt64() == 6 && user.GetProperty("active_tunnels").GetInt64() == 3
                        && user.TryGetProperty("last_activity", out _);
                }, FlushBound, () => $"opt 4 on {asked.Tunnel} sums the three instances ({sent} bytes, 6 tunnels opened, 3 open): {seen}");
            }
            var traffic = User(await rig.PostAsync(rig.Instances[1], """{"opt":5}"""), "traffic", "/counted");
            Assert.Equal(sent, traffic.GetProperty("bytes_from_client").GetInt64());
            Assert.Equal("acct-7", traffic.GetProperty("name").GetString());
        }
        finally
        {
            foreach (var tunnel in tunnels) await tunnel.DisposeAsync();
        }
        // Closed tunnels leave the cluster's open count.
        await ClusterRig.UntilAsync(async () =>
            User(await rig.PostAsync(rig.Instances[2], """{"opt":4}"""), "users", "/counted").GetProperty("active_tunnels").GetInt64() == 0,
            FlushBound, "no tunnel open after they closed");
    }

    [Fact]
    public async Task ResetStorm_RacingTrafficOnAllThree_LosesAndDuplicatesNothing()
    {
        await using var rig = await ClusterRig.StartAsync(3);
        Assert.Equal(1, (await rig.PostAsync(rig.Instances[0], rig.AddUser("/storm"))).GetProperty("res").GetInt32());
        foreach (var instance in rig.Instances)
            await ClusterRig.UntilAsync(() => ClusterRig.ServesAsync(instance, "/storm"), ClusterRig.Bound, "served everywhere");

        const int Messages = 400;
        var trafficDone = new CancellationTokenSource();
        long reportedFrom = 0, reportedTo = 0, resets = 0;
        async Task ResetLoop(ClusterRig.Instance instance)
        {
            while (!trafficDone.IsCancellationRequested)
            {
                var reply = await rig.PostAsync(instance, """{"opt":5,"reset":true}""");
                Assert.Equal(1, reply.GetProperty("res").GetInt32());
                var user = User(reply, "traffic", "/storm");
                Interlocked.Add(ref reportedFrom, user.GetProperty("bytes_from_client").GetInt64());
                Interlocked.Add(ref reportedTo, user.GetProperty("bytes_to_client").GetInt64());
                Interlocked.Increment(ref resets);
            }
        }
        async Task<long> Pump(ClusterRig.Instance instance, int seed)
        {
            await using var tunnel = await ClusterRig.OpenAsync(instance, "/storm");
            var random = new Random(seed);
            long bytes = 0;
            for (int m = 0; m < Messages; m++)
            {
                byte[] payload = new byte[random.Next(1, 4000)];
                Assert.True(await ClusterRig.EchoAsync(tunnel, payload));
                bytes += payload.Length;
            }
            return bytes;
        }

        var resetters = rig.Instances.Select(ResetLoop).ToArray();
        var pumps = rig.Instances.Select((instance, i) => Pump(instance, i)).ToArray();
        long sent = (await Task.WhenAll(pumps).WaitAsync(ClusterRig.Bound)).Sum();
        trafficDone.Cancel();
        await Task.WhenAll(resetters).WaitAsync(ClusterRig.Bound);
        Assert.True(Volatile.Read(ref resets) >= 6, $"only {resets} resets raced the traffic");

        // What was not reported yet arrives with the instances' next flushes: collect it until every byte is in.
        await ClusterRig.UntilAsync(async () =>
        {
            var user = User(await rig.PostAsync(rig.Instances[2], """{"opt":5,"reset":true}"""), "traffic", "/storm");
            reportedFrom += user.GetProperty("bytes_from_client").GetInt64();
            reportedTo += user.GetProperty("bytes_to_client").GetInt64();
            Assert.True(reportedFrom <= sent, $"{reportedFrom} bytes reported from clients, {sent} sent: counted twice");
            Assert.True(reportedTo <= sent, $"{reportedTo} bytes reported to clients, {sent} echoed: counted twice");
            return reportedFrom == sent && reportedTo == sent;
        }, FlushBound, () => $"all {sent} bytes reported (so far {reportedFrom})");

        // Every instance flushes again after that (their heartbeats move on): still nothing more to report.
        var after = DateTime.UtcNow;
        await ClusterRig.UntilAsync(async () =>
            (await rig.PostAsync(rig.Instances[0], """{"opt":6}""")).GetProperty("nodes").EnumerateArray()
                .All(n => n.GetProperty("seen").GetDateTime() > after.AddSeconds(1)), FlushBound, "every instance ticked twice more");
        var last = User(await rig.PostAsync(rig.Instances[1], """{"opt":5,"reset":true}"""), "traffic", "/storm");
        Assert.Equal(0, last.GetProperty("bytes_from_client").GetInt64());
        Assert.Equal(0, last.GetProperty("bytes_to_client").GetInt64());
    }
}
