using System.Runtime.CompilerServices;

namespace Mtt.Core.Transport;

/// <summary>
/// <c>await ThreadPoolHop.OffSocketThread</c>: continues on the thread pool when the caller runs on another thread,
/// and at once (no hop, no allocation) when it already runs on the pool. With inline socket completions
/// (docs/benchmarks.md, "Inline socket completions, made safe") a socket continuation runs on one of the socket
/// engine's epoll threads, which serve every connection of that engine: CPU work that takes a while (a TLS
/// handshake step, a controller command over thousands of users) and anything that may wait (the state file's
/// fsync) hop off it first.
/// </summary>
public readonly struct ThreadPoolHop : ICriticalNotifyCompletion
{
    public static ThreadPoolHop OffSocketThread => default;

    public ThreadPoolHop GetAwaiter() => this;

    public bool IsCompleted => Thread.CurrentThread.IsThreadPoolThread;

    public void GetResult()
    {
    }

    public void OnCompleted(Action continuation) =>
        ThreadPool.QueueUserWorkItem(static run => run(), continuation, preferLocal: false);

    public void UnsafeOnCompleted(Action continuation) =>
        ThreadPool.UnsafeQueueUserWorkItem(static run => run(), continuation, preferLocal: false);
}
