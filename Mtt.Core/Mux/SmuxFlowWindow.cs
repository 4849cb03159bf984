namespace Mtt.Core.Mux;

/// <summary>
/// Version 2 flow control of one stream (xtaci/smux cmdUPD), both ways: the window we grant the client
/// and the consumption we announce to it, and the window the client grants us against what we sent.
/// Counts wrap at 2^32 as xtaci/smux's do, so only differences are used.
/// </summary>
internal sealed class SmuxFlowWindow
{
    /// <summary>
    /// The window we grant each stream. The client starts by assuming 256 KiB (xtaci/smux
    /// initialPeerWindow) before it hears from us, so a smaller grant could not be relied on anyway.
    /// </summary>
    public const int ReceiveWindow = 256 * 1024;

    /// <summary>The client's window until its first UPD (xtaci/smux initialPeerWindow).</summary>
    private const uint InitialPeerWindow = 256 * 1024;

    private uint _consumed;
    private uint _consumedAnnounced;
    private int _updateQueued;
    private uint _sent;
    private uint _peerConsumed;
    private uint _peerWindow = InitialPeerWindow;

    /// <summary>The client's UPD: what it has consumed of ours, and the window it grants.</summary>
    public void OnUpdate(uint consumed, uint window)
    {
        Volatile.Write(ref _peerConsumed, consumed);
        Volatile.Write(ref _peerWindow, window);
    }

    /// <summary>
    /// What the client's window allows us to send now, at most <paramref name="max"/>: 0 while it is shut,
    /// -1 when the client claims to have consumed more than we sent (broken; xtaci/smux ends the stream
    /// likewise, ErrConsumed).
    /// </summary>
    public int Available(int max)
    {
        int inFlight = (int)(_sent - Volatile.Read(ref _peerConsumed));
        if (inFlight < 0) return -1;
        long available = Volatile.Read(ref _peerWindow) - (long)inFlight;
        return available > 0 ? (int)Math.Min(available, max) : 0;
    }

    /// <summary>We sent <paramref name="count"/> bytes of data (one writer: the stream's downstream loop).</summary>
    public void Sent(int count) => _sent += (uint)count;

    /// <summary>
    /// Client bytes reached the backend; true when an UPD should be queued now. As xtaci/smux does: the
    /// first consumption is announced, then every half window, with at most one UPD queued at a time.
    /// </summary>
    public bool Consumed(int count)
    {
        // Atomic: the session's reader (a write flushed at once) and the stream's upstream loop (a pending flush,
        // the queue) both report consumption, at times together.
        uint consumed = Interlocked.Add(ref _consumed, (uint)count);
        bool first = consumed == (uint)count;
        return (first || consumed - Volatile.Read(ref _consumedAnnounced) >= ReceiveWindow / 2) && Interlocked.Exchange(ref _updateQueued, 1) == 0;
    }

    /// <summary>Called by the sender as it writes our UPD: what we have consumed and the window we grant.</summary>
    public (uint Consumed, uint Window) TakeUpdate()
    {
        uint consumed = Volatile.Read(ref _consumed);
        Volatile.Write(ref _consumedAnnounced, consumed);
        Volatile.Write(ref _updateQueued, 0);
        // Bytes consumed since this read are covered by the next update, which the upstream loop queues.
        return (consumed, ReceiveWindow);
    }
}
