using Mtt.Core.Diagnostics;
using Mtt.Core.Routing;
using Mtt.Tests.Support;

namespace Mtt.Tests.Diagnostics;

/// <summary>
/// The server's tunnel, stream and byte totals are sums of the users' counters: a user deleted or moved to another
/// backend must leave its counts in them (Prometheus counters never go down), and is forgotten once its tunnels end.
/// </summary>
public sealed class ServerTotalsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static void OneTunnel(TunnelMeter meter, long fromClient, long toClient)
    {
        meter.TunnelOpened();
        meter.StreamOpened();
        meter.FromClient(fromClient);
        meter.ToClient(toClient);
        meter.StreamClosed();
        meter.TunnelClosed();
    }

    [Fact]
    public void ADeletedUsersCounts_StayInTheTotals_AndTheUserIsForgotten()
    {
        var metrics = new ServerMetrics();
        var kept = new UserState();
        var deleted = new UserState();
        OneTunnel(new TunnelMeter(kept, metrics), 1, 2);
        OneTunnel(new TunnelMeter(deleted, metrics), 10, 20);

        deleted.Revoke();

        Assert.Equal(new UserCounts(0, 0, 2, 2, 11, 22), metrics.Totals.Read());
        Assert.Equal(1, metrics.Totals.TrackedUsers);
        OneTunnel(new TunnelMeter(kept, metrics), 100, 200);
        Assert.Equal(new UserCounts(0, 0, 3, 3, 111, 222), metrics.Totals.Read());
    }

    [Fact]
    public void ARevokedUsersOpenTunnel_CountsUntilItEnds()
    {
        var metrics = new ServerMetrics();
        var user = new UserState();
        var meter = new TunnelMeter(user, metrics);
        meter.TunnelOpened();
        meter.FromClient(5);

        user.Revoke();
        Assert.Equal(new UserCounts(1, 0, 1, 0, 5, 0), metrics.Totals.Read());
        meter.ToClient(7);
        meter.TunnelClosed();

        Assert.Equal(new UserCounts(0, 0, 1, 0, 5, 7), metrics.Totals.Read());
        Assert.Equal(0, metrics.Totals.TrackedUsers);
    }

    [Fact]
    public void ATunnelOnAUserAlreadyFolded_IsCountedOnce()
    {
        // A connection routed by the table read just before its user was deleted: 101, then 1008 at once.
        var metrics = new ServerMetrics();
        var user = new UserState();
        OneTunnel(new TunnelMeter(user, metrics), 1, 1);
        user.Revoke();
        Assert.Equal(new UserCounts(0, 0, 1, 1, 1, 1), metrics.Totals.Read());

        var late = new TunnelMeter(user, metrics);
        late.TunnelOpened();
        Assert.Equal(new UserCounts(1, 0, 2, 1, 1, 1), metrics.Totals.Read());
        late.FromClient(3);
        late.TunnelClosed();

        Assert.Equal(new UserCounts(0, 0, 2, 1, 4, 1), metrics.Totals.Read());
        Assert.Equal(new UserCounts(0, 0, 2, 1, 4, 1), metrics.Totals.Read());
    }

    [Fact]
    public void UsersDeletedWhileNobodyReads_AreForgottenAsNewOnesComeIn()
    {
        var metrics = new ServerMetrics();
        for (int i = 0; i < 10_000; i++)
        {
            var user = new UserState();
            OneTunnel(new TunnelMeter(user, metrics), 1, 1);
            user.Revoke();
        }

        Assert.InRange(metrics.Totals.TrackedUsers, 1, 64);
        Assert.Equal(new UserCounts(0, 0, 10_000, 10_000, 10_000, 10_000), metrics.Totals.Read());
    }

    [Fact]
    public async Task TotalsRead_WhileUsersComeAndGo_NeverGoDown_AndEndAsTheExactSum()
    {
        var metrics = new ServerMetrics();
        const int Workers = 4;
        const int UsersPerWorker = 300;
        var everyUser = new UserState[Workers * UsersPerWorker];
        using var done = new CancellationTokenSource();
        var reader = Task.Run(() =>
        {
            var last = default(UserCounts);
            while (!done.IsCancellationRequested)
            {
                var now = metrics.Totals.Read();
                Assert.True(now.TunnelsOpened >= last.TunnelsOpened && now.FromClient >= last.FromClient && now.ToClient >= last.ToClient,
                    $"a counter went down: {last} then {now}");
                Assert.InRange(now.TunnelsActive, 0, Workers * 2);
                last = now;
            }
        });
        var workers = Enumerable.Range(0, Workers).Select(w => Task.Run(() =>
        {
            for (int i = 0; i < UsersPerWorker; i++)
            {
                var user = everyUser[w * UsersPerWorker + i] = new UserState();
                var first = new TunnelMeter(user, metrics);
                first.TunnelOpened();
                first.FromClient(i);
                user.Revoke();
                // A late tunnel on the revoked user races the reader's folding.
                var late = new TunnelMeter(user, metrics);
                late.TunnelOpened();
                late.ToClient(i);
                first.TunnelClosed();
                late.FromClient(1);
                late.TunnelClosed();
            }
        })).ToArray();

        await Task.WhenAll(workers).WaitAsync(Bound);
        await done.CancelAsync();
        await reader.WaitAsync(Bound);

        var sum = default(UserCounts);
        foreach (var user in everyUser) sum += user.Counts;
        Assert.Equal(sum, metrics.Totals.Read());
        Assert.Equal(0, metrics.Totals.Read().TunnelsActive);
    }

    [Fact]
    public async Task Metrics_KeepADeletedAndAMovedUsersTunnelsAndBytes()
    {
        await using var backend = new EchoBackend();
        await using var server = ServerWithController.Start();
        await server.CommandAsync($$"""{"opt":1,"args_bunch":[{"path":"/gone","dst":"{{backend.Address}}"},{"path":"/moved","dst":"{{backend.Address}}"}]}""");
        foreach (string path in new[] { "/gone", "/moved" })
        {
            await using var client = await RawWebSocketClient.ConnectAsync(server.TunnelPort);
            Assert.Equal(101, (await client.UpgradeAsync(path).WaitAsync(Bound)).Status);
            await client.AssertEchoesThenClosesAsync("12345", Bound);
        }
        await server.AllTunnelsEndedAsync();

        await server.CommandAsync("""{"opt":2,"args_bunch":[{"path":"/gone"}]}""");
        await server.CommandAsync($$"""{"opt":1,"args_bunch":[{"path":"/moved","dst":"localhost:{{backend.Port}}"}]}""");

        string text = await server.ScrapeAsync();
        Assert.Contains("\nmtt_tunnels_opened_total 2\n", text);
        Assert.Contains("\nmtt_tunnels_active 0\n", text);
        Assert.Contains("\nmtt_bytes_from_client_total 10\n", text);
        Assert.Contains("\nmtt_bytes_to_client_total 10\n", text);
        Assert.Contains("\nmtt_users 1\n", text);
        // The moved user starts afresh; the server's totals do not.
        Assert.Equal(0, (await server.UserAsync("/moved")).GetProperty("bytes_from_client").GetInt64());
    }
}
