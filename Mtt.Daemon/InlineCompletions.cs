using System.Net;
using System.Net.Sockets;

namespace Mtt.Daemon;

/// <summary>
/// Inline socket completions: .NET's socket engine runs each socket operation's continuation on its own epoll
/// thread instead of queueing it to the thread pool, which saves a hop (and its wake-ups) per receive and send.
/// Safe only when nothing on a socket continuation blocks (the log's queue, the state file's writer, the TLS
/// handshake's hop to the pool: docs/benchmarks.md, "Inline socket completions, made safe"), so the daemon turns it
/// on for itself unless the operator said otherwise.
/// </summary>
internal static class InlineCompletions
{
    /// <summary>The runtime's switch: read from the environment when the process makes its first socket, and only then.</summary>
    public const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Sets <see cref="Variable"/> to 1 unless the operator set it (to anything, "0" included); call before any socket.</summary>
    /// <returns>What the operator set, or null when the daemon chose.</returns>
    public static string? EnableUnlessSet()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { } given) return given;
        Environment.SetEnvironmentVariable(Variable, "1");
        return null;
    }

    /// <summary>
    /// Whether the runtime really runs completions inline: a receive left pending on a loopback pair completes on
    /// a thread that is not the pool's only when they are (what the variable asked for, checked where it acts).
    /// </summary>
    public static async Task<bool> ProbeAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!).ConfigureAwait(false);
        using var server = await listener.AcceptAsync().ConfigureAwait(false);

        var completedOn = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var receive = new SocketAsyncEventArgs();
        receive.SetBuffer(new byte[1], 0, 1);
        receive.Completed += (_, _) => completedOn.TrySetResult(!Thread.CurrentThread.IsThreadPoolThread);
        // Pending: nothing was sent yet, so the completion comes from the engine, where the setting acts.
        if (!server.ReceiveAsync(receive)) return false;
        await client.SendAsync(new byte[1]).ConfigureAwait(false);
        return await completedOn.Task.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
    }
}
