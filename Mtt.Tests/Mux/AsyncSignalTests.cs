using Mtt.Core.Mux;

namespace Mtt.Tests.Mux;

/// <summary>
/// The signal an smux stream's copy loop awaits for each frame it hands to the sender: whether the frame went
/// out must reach the loop, whether the sender answered before or after the loop began to wait.
/// </summary>
public sealed class AsyncSignalTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task AnAnswerGivenWhileWaiting_ReachesTheWaiter()
    {
        var signal = new AsyncSignal();
        var sent = signal.WaitForResultAsync().AsTask();
        Assert.False(sent.IsCompleted);
        signal.Set(false);
        Assert.False(await sent.WaitAsync(Bound));

        var next = signal.WaitForResultAsync().AsTask();
        signal.Set(true);
        Assert.True(await next.WaitAsync(Bound));
    }

    [Fact]
    public async Task AnAnswerGivenBeforeTheWait_IsRememberedOnce()
    {
        var signal = new AsyncSignal();
        signal.Set(false);
        Assert.False(await signal.WaitForResultAsync());
        signal.Set(true);
        Assert.True(await signal.WaitForResultAsync());

        // Each answer is taken once: the next wait waits for the next answer.
        var third = signal.WaitForResultAsync().AsTask();
        Assert.False(third.IsCompleted);
        signal.Set(false);
        Assert.False(await third.WaitAsync(Bound));
    }
}
