using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Mtt.Tests.Support;

namespace Mtt.Tests.Cluster;

/// <summary>
/// Under <c>-redis</c> a user's quota counts the whole cluster's traffic: opt 4 shows what is left of it on every
/// instance, traffic on two instances that together crosses it closes the user's tunnels on both (1008) and refuses
/// new ones (403) within a flush or so, and a new quota set on one instance lets the user in again on the other.
/// </summary>
public sealed class ClusterQuotaTests
{
    private const long Quota = 200_000;

    // One flush (once a second) brings the crossing to Redis, which tells every instance at once; the rest is margin
    // for a busy machine.
    private static readonly TimeSpan CloseBound = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan FlushBound = TimeSpan.FromSeconds(5);

    private static JsonElement User(JsonElement reply, string path) =>
        reply.GetProperty("users").EnumerateArray().Single(u => u.GetProperty("path").GetString() == path);

    [Fact]
    public async Task TrafficOnTwoInstances_EachUnderTheQuota_TogetherOver_ClosesWith1008AndRefuses403OnBoth_UntilANewQuota()
    {
        await using var rig = await ClusterRig.StartAsync(2);
        var (a, b) = (rig.Instances[0], rig.Instances[1]);
        Assert.Equal(1, (await rig.PostAsync(a, rig.AddUser("/shared", "acct-q", $"\"quota\":{Quota}"))).GetProperty("res").GetInt32());
        await ClusterRig.UntilAsync(() => ClusterRig.ServesAsync(b, "/shared"), ClusterRig.Bound, "served on B");
        await using var onA = await ClusterRig.OpenAsync(a, "/shared");
        await using var onB = await ClusterRig.OpenAsync(b, "/shared");

        // 80,000 bytes both ways on each instance: 160,000 of 200,000 spent, which neither instance sees alone.
        await EchoAsync(onA, 40_000);
        await EchoAsync(onB, 40_000);
        foreach (var asked in rig.Instances)
        {
            string seen = "";
            await ClusterRig.UntilAsync(async () =>
            {
                var user = User(await rig.PostAsync(asked, """{"opt":4}"""), "/shared");
                seen = user.ToString();
                return user.GetProperty("quota_left").GetInt64() == Quota - 160_000;
            }, FlushBound, () => $"opt 4 on {asked.Tunnel} shows the cluster's quota_left {Quota - 160_000}: {seen}");
        }

        // 60,000 more both ways on A alone (140,000 there, under the quota) cross the cluster's count.
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 3; i++) await onA.SendBinaryAsync(ReadOnlyMemory<byte>.Empty, new byte[10_000], CancellationToken.None);
        var closedA = DrainAsync(onA);
        var closedB = DrainAsync(onB);
        long receivedAfter = await closedA.WaitAsync(CloseBound);
        Assert.Equal(0, await closedB.WaitAsync(CloseBound));
        var closedWithin = clock.Elapsed;
        Assert.True(onA.ReceivedCloseCode == 1008, $"A's tunnel closed with {onA.ReceivedCloseCode}\n{a.Daemon.Stderr}");
        Assert.True(onB.ReceivedCloseCode == 1008, $"B's tunnel closed with {onB.ReceivedCloseCode}\n{b.Daemon.Stderr}");
        Assert.True(closedWithin < CloseBound, $"closed after {closedWithin}");
        await b.Daemon.WaitForStderrAsync("is spent across the cluster").WaitAsync(CloseBound);

        foreach (var instance in rig.Instances)
        {
            await using var refused = await RawWebSocketClient.ConnectAsync(instance.Tunnel);
            Assert.Equal(403, (await refused.UpgradeAsync("/shared").WaitAsync(ClusterRig.Bound)).Status);
        }

        // The counts match what the clients sent and got, once the last flush is in.
        long toClients = 80_000 + receivedAfter;
        string counted = "";
        await ClusterRig.UntilAsync(async () =>
        {
            var user = User(await rig.PostAsync(b, """{"opt":4}"""), "/shared");
            counted = user.ToString();
            return user.GetProperty("bytes_from_client").GetInt64() == 110_000 && user.GetProperty("bytes_to_client").GetInt64() == toClients
                && user.GetProperty("quota_left").GetInt64() == 0;
        }, FlushBound, () => $"opt 4 counts 110000 bytes from clients and {toClients} to them, quota_left 0: {counted}");
        Assert.Contains("mtt_handshakes_refused_total{reason=\"quota\"} 1", await rig.MetricsAsync(b));

        // An instance that joins now loads the count with the table: it refuses the user from its first tunnel.
        var c = await rig.StartInstanceAsync();
        await using (var refused = await RawWebSocketClient.ConnectAsync(c.Tunnel))
        {
            Assert.Equal(403, (await refused.UpgradeAsync("/shared").WaitAsync(ClusterRig.Bound)).Status);
        }

        // The same quota sent again to the spent user, on A, starts the cluster's count again and lets it in on B.
        string sameQuota = rig.AddUser("/shared", "acct-q", $"\"quota\":{Quota}");
        Assert.Equal(1, (await rig.PostAsync(a, sameQuota)).GetProperty("res").GetInt32());
        await ClusterRig.UntilAsync(() => ClusterRig.ServesAsync(b, "/shared"), FlushBound, "served on B again after the quota was sent again");
        Assert.Equal(Quota, User(await rig.PostAsync(b, """{"opt":4}"""), "/shared").GetProperty("quota_left").GetInt64());
        await using (var again = await ClusterRig.OpenAsync(b, "/shared")) await EchoAsync(again, 10_000);
        await UntilQuotaLeftAsync(rig, a, "/shared", Quota - 20_000);

        // Sent again while not spent, it keeps counting (a panel re-sending its list refills nobody); another value starts anew.
        Assert.Equal(1, (await rig.PostAsync(a, sameQuota)).GetProperty("res").GetInt32());
        Assert.Equal(Quota - 20_000, User(await rig.PostAsync(b, """{"opt":4}"""), "/shared").GetProperty("quota_left").GetInt64());
        Assert.Equal(1, (await rig.PostAsync(b, rig.AddUser("/shared", "acct-q", "\"quota\":1000000"))).GetProperty("res").GetInt32());
        await UntilQuotaLeftAsync(rig, a, "/shared", 1_000_000);
    }

    [Fact]
    public async Task RedisPaused_EachInstanceCountsOnAlone_AndTheBacklogLandsOnceWhenRedisWakes()
    {
        await using var rig = await ClusterRig.StartAsync(2);
        var (a, b) = (rig.Instances[0], rig.Instances[1]);
        Assert.Equal(1, (await rig.PostAsync(a, rig.AddUser("/paused", null, $"\"quota\":{Quota}"))).GetProperty("res").GetInt32());
        await ClusterRig.UntilAsync(() => ClusterRig.ServesAsync(b, "/paused"), ClusterRig.Bound, "served on B");
        await using var onA = await ClusterRig.OpenAsync(a, "/paused");
        await using var onB = await ClusterRig.OpenAsync(b, "/paused");
        await EchoAsync(onA, 20_000);
        await UntilQuotaLeftAsync(rig, b, "/paused", Quota - 40_000);

        await rig.Redis.PauseAsync();
        // Moved while every flush hangs: 40,000 on A and 20,000 on B, both ways; still under the quota on each.
        await EchoAsync(onA, 20_000);
        await EchoAsync(onB, 10_000);
        foreach (var instance in rig.Instances)
        {
            await ClusterRig.UntilAsync(async () => Regex.IsMatch(await rig.MetricsAsync(instance), "^mtt_cluster_flush_failures_total [1-9]", RegexOptions.Multiline),
                ClusterRig.Bound, "a flush failed while Redis was paused");
        }
        await rig.Redis.ResumeAsync();

        // The flushes that hung land when Redis wakes, and their retries add nothing: every byte counted once.
        await UntilQuotaLeftAsync(rig, a, "/paused", Quota - 100_000);
        var user = User(await rig.PostAsync(b, """{"opt":4}"""), "/paused");
        Assert.Equal(Quota - 100_000, user.GetProperty("quota_left").GetInt64());
        Assert.Equal(50_000, user.GetProperty("bytes_from_client").GetInt64());
        Assert.Equal(50_000, user.GetProperty("bytes_to_client").GetInt64());
        await EchoAsync(onB, 10_000);
    }

    private static Task<TimeSpan> UntilQuotaLeftAsync(ClusterRig rig, ClusterRig.Instance asked, string path, long left)
    {
        string seen = "";
        return ClusterRig.UntilAsync(async () =>
        {
            var reply = await rig.PostAsync(asked, """{"opt":4}""");
            seen = reply.ToString();
            return reply.GetProperty("res").GetInt32() == 1 && User(reply, path).GetProperty("quota_left").GetInt64() == left;
        }, TimeSpan.FromSeconds(15), () => $"opt 4 on {asked.Tunnel} shows quota_left {left}: {seen}");
    }

    // Messages of 10,000 bytes (the test client sends at most 16 KiB at once), each echoed before the next.
    private static async Task EchoAsync(RawWebSocketClient client, int bytes)
    {
        for (int sent = 0; sent < bytes; sent += 10_000) Assert.True(await ClusterRig.EchoAsync(client, new byte[10_000]), "echoed");
    }

    // Reads what still comes until the server's close frame; the bytes read.
    private static async Task<long> DrainAsync(RawWebSocketClient client)
    {
        var buffer = new byte[16 * 1024];
        long total = 0;
        while (true)
        {
            using var timeout = new CancellationTokenSource(ClusterRig.Bound);
            int n = await client.ReceiveAsync(buffer, timeout.Token);
            if (n == 0) return total;
            total += n;
        }
    }
}
