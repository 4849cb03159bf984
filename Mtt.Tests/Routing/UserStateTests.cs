using Mtt.Core.Routing;
using Mtt.Core.Transport;

namespace Mtt.Tests.Routing;

public sealed class UserStateTests
{
    private static Route RouteFor(string path, int port = 9000, string? name = null) => new(path, new BackendAddress("127.0.0.1", port), name);

    [Fact]
    public void AddingTheSameUserAgain_CarriesItsState_AndDisplacesNothing()
    {
        var first = RouteFor("/a");
        var table = RouteTable.Empty.WithAdded([first]);
        var displaced = new List<UserState>();
        var next = table.WithAdded([RouteFor("/a", name: "alice")], displaced);

        Assert.True(next.TryGet("/a", out var route));
        Assert.Same(first.State, route.State);
        Assert.Equal("alice", route.Name);
        Assert.Empty(displaced);
    }

    [Fact]
    public void ChangingTheDst_GivesAFreshState_AndDisplacesTheOldOne()
    {
        var first = RouteFor("/a", 1);
        var table = RouteTable.Empty.WithAdded([first, RouteFor("/b")]);
        var displaced = new List<UserState>();
        var next = table.WithAdded([RouteFor("/a", 2), RouteFor("/a", 3)], displaced);

        Assert.True(next.TryGet("/a", out var route));
        Assert.NotSame(first.State, route.State);
        Assert.Same(first.State, Assert.Single(displaced));
    }

    [Fact]
    public void ABatchThatEndsWithTheOldDst_KeepsTheState()
    {
        var first = RouteFor("/a", 1);
        var table = RouteTable.Empty.WithAdded([first]);
        var displaced = new List<UserState>();
        var next = table.WithAdded([RouteFor("/a", 2), RouteFor("/a", 1)], displaced);

        Assert.True(next.TryGet("/a", out var route));
        Assert.Same(first.State, route.State);
        Assert.Empty(displaced);
    }

    [Fact]
    public void Removing_DisplacesOnlyTheUsersThatExisted()
    {
        var a = RouteFor("/a");
        var table = RouteTable.Empty.WithAdded([a, RouteFor("/b")]);
        var displaced = new List<UserState>();
        var next = table.WithRemoved(["/a", "/nobody"], displaced);
        Assert.Same(a.State, Assert.Single(displaced));
        Assert.Equal(1, next.Count);
    }

    [Fact]
    public void Label_IsTheName_OrAShortHashOfThePath_NeverThePath()
    {
        Assert.Equal("acct-1", RouteFor("/secret", name: "acct-1").Label);
        string label = RouteFor("/secret").Label;
        Assert.Matches("^#[0-9a-f]{8}$", label);
        Assert.Equal(label, RouteFor("/secret", 1234).Label);
        Assert.NotEqual(label, RouteFor("/secret2").Label);
    }

    [Fact]
    public void Revoke_FiresTheSignal_Once()
    {
        var state = new UserState();
        int fired = 0;
        using var registration = state.Revoked.Register(() => fired++);
        state.Revoke();
        state.Revoke();
        Assert.True(state.IsRevoked);
        Assert.Equal(1, fired);
    }

    [Fact]
    public async Task ReadTrafficWithReset_UnderConcurrentCounting_LosesAndRepeatsNothing()
    {
        var state = new UserState();
        const int Writers = 4;
        const int AddsPerWriter = 200_000;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writers = new Task[Writers];
        for (int w = 0; w < Writers; w++)
        {
            writers[w] = Task.Run(async () =>
            {
                await start.Task;
                for (int i = 0; i < AddsPerWriter; i++)
                {
                    state.AddFromClient(3);
                    state.AddToClient(5);
                }
            });
        }

        long from = 0, to = 0;
        start.SetResult();
        var all = Task.WhenAll(writers);
        while (!all.IsCompleted)
        {
            var (f, t) = state.ReadTraffic(reset: true);
            Assert.True(f >= 0 && t >= 0);
            from += f;
            to += t;
        }
        await all.WaitAsync(TimeSpan.FromSeconds(30));
        var (lastFrom, lastTo) = state.ReadTraffic(reset: true);
        from += lastFrom;
        to += lastTo;

        Assert.Equal(3L * Writers * AddsPerWriter, from);
        Assert.Equal(5L * Writers * AddsPerWriter, to);
        // The monotonic totals behind metrics are not reset.
        Assert.Equal(from, state.BytesFromClient);
        Assert.Equal(to, state.BytesToClient);
        Assert.Equal((0L, 0L), state.ReadTraffic(reset: false));
    }

    [Fact]
    public void Counting_AllocatesNothing()
    {
        var state = new UserState();
        state.AddFromClient(1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            state.AddFromClient(100);
            state.AddToClient(100);
        }
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }
}
