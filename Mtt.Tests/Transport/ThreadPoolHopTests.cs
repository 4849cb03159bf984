using Mtt.Core.Transport;

namespace Mtt.Tests.Transport;

public sealed class ThreadPoolHopTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task FromAThreadOutsideThePool_ContinuesOnThePool()
    {
        var continuedOnPool = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() => _ = HopAsync(continuedOnPool)) { IsBackground = true, Name = "stands for a socket engine thread" };
        thread.Start();
        Assert.True(await continuedOnPool.Task.WaitAsync(Bound));
    }

    [Fact]
    public async Task OnThePool_CompletesAtOnce()
    {
        bool completedAtOnce = await Task.Run(() => ThreadPoolHop.OffSocketThread.IsCompleted).WaitAsync(Bound);
        Assert.True(completedAtOnce);
    }

    private static async Task HopAsync(TaskCompletionSource<bool> continuedOnPool)
    {
        Assert.False(Thread.CurrentThread.IsThreadPoolThread);
        await ThreadPoolHop.OffSocketThread;
        continuedOnPool.TrySetResult(Thread.CurrentThread.IsThreadPoolThread);
    }
}
