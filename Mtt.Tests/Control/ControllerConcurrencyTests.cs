using System.Text;
using Mtt.Core.Routing;

namespace Mtt.Tests.Control;

public class ControllerConcurrencyTests
{
    private const int Writers = 6;
    private const int CommandsPerWriter = 15;
    private const int UsersPerBatch = 40;

    private static string BatchPrefix(int writer, int batch) => $"/w{writer}/b{batch}/u";

    [Fact]
    public async Task ConcurrentCommands_RacingWithLookups_EndInAConsistentTable()
    {
        await using var controller = RunningController.Start();
        using var writersDone = new CancellationTokenSource();

        // Each command adds one batch and the next deletes it; a reader must see every batch whole or not at all.
        var writers = Enumerable.Range(0, Writers).Select(writer => Task.Run(async () =>
        {
            for (int batch = 0; batch < CommandsPerWriter; batch++)
            {
                var (_, added, _) = await controller.PostAsync(UserBodies.Add(UsersPerBatch, BatchPrefix(writer, batch)));
                Assert.Equal(1, added.GetProperty("res").GetInt32());
                if (batch > 0)
                {
                    var (_, deleted, _) = await controller.PostAsync(DeleteBatch(BatchPrefix(writer, batch - 1)));
                    Assert.Equal(1, deleted.GetProperty("res").GetInt32());
                }
            }
        })).ToArray();

        // Readers on their own threads, as connections being routed would be, without starving the thread pool.
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Factory.StartNew(() =>
        {
            int snapshots = 0;
            do
            {
                AssertBatchesWhole(controller.Routes.Current);
                snapshots++;
            }
            while (!writersDone.IsCancellationRequested);
            return snapshots;
        }, TaskCreationOptions.LongRunning)).ToArray();

        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(30));
        writersDone.Cancel();
        int[] seen = await Task.WhenAll(readers).WaitAsync(RunningController.Bound);

        Assert.All(seen, count => Assert.True(count > 0));
        var final = controller.Routes.Current;
        Assert.Equal(Writers * UsersPerBatch, final.Count);
        for (int writer = 0; writer < Writers; writer++)
        {
            Assert.True(final.TryGetUtf8(Encoding.UTF8.GetBytes(BatchPrefix(writer, CommandsPerWriter - 1) + "0"), out _));
        }
        AssertBatchesWhole(final);
    }

    private static void AssertBatchesWhole(RouteTable table)
    {
        for (int writer = 0; writer < Writers; writer++)
        {
            for (int batch = 0; batch < CommandsPerWriter; batch++)
            {
                string prefix = BatchPrefix(writer, batch);
                bool first = table.TryGetUtf8(Encoding.UTF8.GetBytes(prefix + "0"), out _);
                for (int user = 1; user < UsersPerBatch; user++)
                {
                    if (table.TryGet(prefix + user, out _) != first)
                        Assert.Fail($"batch {prefix} seen half applied");
                }
            }
        }
    }

    private static string DeleteBatch(string prefix)
    {
        var json = new StringBuilder("""{"opt":2,"args_bunch":[""");
        for (int user = 0; user < UsersPerBatch; user++)
        {
            json.Append(user == 0 ? "" : ",").Append($$"""{"path":"{{prefix}}{{user}}"}""");
        }
        return json.Append("]}").ToString();
    }
}
