using System.Buffers;
using Mtt.Core.Diagnostics;
using Mtt.Core.WebSockets;

namespace Mtt.Core.Relay;

/// <summary>
/// A plain tunnel's client as <see cref="BackendToClientCopy"/> sees it: each chunk is one WebSocket binary
/// frame, watched by the tunnel's lifetime while it is written; the backend's end is a close frame.
/// </summary>
internal readonly struct WebSocketClientSink(WebSocketConnection client, TunnelLifetime<TunnelEndReason> lifetime, TunnelMeter meter) : IClientSink
{
    // What a rate-limited user's read asks its bucket for at once; an unlimited read goes out whole, as one frame.
    private const int MaxPacedBytes = 64 * 1024;

    public int MaxPacedChunk => MaxPacedBytes;

    public ValueTask<int> RoomAsync(long available) => new((int)Math.Min(available, int.MaxValue));

    public ValueTask<bool> SendAsync(in ReadOnlySequence<byte> chunk)
    {
        lifetime.Touch();
        lifetime.ClientWriteStarted();
        return client.SendAsync(chunk, lifetime.ClientWrites);
    }

    public bool Sent(int count)
    {
        lifetime.ClientWriteEnded();
        meter.ToClient(count);
        return true;
    }

    public void NotSent(Exception? error)
    {
        lifetime.ClientWriteEnded();
        // A write aborted by the lifetime (the tunnel stopping, or the client stalled) ends for that reason.
        if (error is OperationCanceledException && lifetime.ClientWrites.IsCancellationRequested) return;
        lifetime.End(TunnelEndReason.ClientDisconnected);
    }

    public void Drained()
    {
    }

    public ValueTask EndAsync(BackendEnd end)
    {
        lifetime.End(end == BackendEnd.Closed ? TunnelEndReason.BackendClosed : TunnelEndReason.BackendFailed);
        // Once the upstream loop has ended (and shut down its sending side) the reason is settled already.
        var code = end == BackendEnd.Failed || lifetime.EndReason == TunnelEndReason.BackendFailed ? WebSocketCloseCodes.InternalError : WebSocketCloseCodes.NormalClosure;
        return client.SendCloseAsync(code, lifetime.Stopping);
    }
}
