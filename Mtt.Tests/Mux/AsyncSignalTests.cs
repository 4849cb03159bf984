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

    [Fact]
    public async Task SetHere_RunsTheWaiterBeforeItReturns_OnTheCallersThread_AndSetDoesNot()
    {
        var signal = new AsyncSignal();
        int ranOn = 0;
        var waiter = WaitThenNoteAsync(signal, () => ranOn = Environment.CurrentManagedThreadId);
        // A thread of its own, so the waiter cannot be on it unless SetHere ran it there.
        await Task.Factory.StartNew(() =>
        {
            signal.SetHere(true);
            Assert.Equal(Environment.CurrentManagedThreadId, ranOn);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).WaitAsync(Bound);
        Assert.True(await waiter.WaitAsync(Bound));

        // Set, on another thread of its own: the waiter runs on the thread pool, never on the thread that set it.
        ranOn = 0;
        var again = WaitThenNoteAsync(signal, () => ranOn = Environment.CurrentManagedThreadId);
        int setter = await Task.Factory.StartNew(() =>
        {
            signal.Set(false);
            return Environment.CurrentManagedThreadId;
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).WaitAsync(Bound);
        Assert.False(await again.WaitAsync(Bound));
        Assert.NotEqual(setter, ranOn);
    }

    [Fact]
    public async Task SetHere_WithNobodyWaiting_IsRememberedLikeSet()
    {
        var signal = new AsyncSignal();
        signal.SetHere(false);
        var first = signal.WaitForResultAsync();
        Assert.True(first.IsCompleted);
        Assert.False(await first);
        var second = signal.WaitForResultAsync().AsTask();
        Assert.False(second.IsCompleted);
        signal.SetHere(true);
        Assert.True(await second.WaitAsync(Bound));
    }

    // Waits on the signal and notes the thread its continuation runs on, before anything else can run there.
    private static async Task<bool> WaitThenNoteAsync(AsyncSignal signal, Action note)
    {
        bool result = await signal.WaitForResultAsync().ConfigureAwait(false);
        note();
        return result;
    }
}
