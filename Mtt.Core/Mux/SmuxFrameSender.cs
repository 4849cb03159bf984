using System.Buffers;
using System.Runtime.CompilerServices;
using Mtt.Core.Relay;
using Mtt.Core.WebSockets;

namespace Mtt.Core.Mux;

/// <summary>
/// The one writer of a session's frames to the client. Each stream hands over one turn at a time (at
/// most <see cref="SmuxStream.MaxFramesPerTurn"/> frames, written in one flush) and waits for it to go
/// out, and ready streams are served in arrival order: a bulk stream delays a small reply on another
/// stream by at most one turn per busy stream. Window updates and keepalives go ahead of data. Each
/// frame is one binary message, header and data together, as xtaci/smux writes them.
/// </summary>
internal sealed class SmuxFrameSender
{
    private readonly WebSocketConnection _client;
    // Also the sender's lock: private, never handed out, so no lock object of its own (40 B per session).
    private readonly Queue<SmuxStream> _dataReady;
    private readonly Queue<SmuxStream> _updatesDue;
    private readonly AsyncSignal _wake = new();
    private readonly byte[] _controlFrame = new byte[SmuxFrameHeader.Size + SmuxFrameHeader.UpdateDataLength];
    // Watches each write to the client make progress (a client that stopped reading is cut).
    private readonly TunnelLifetime<SmuxEndReason> _lifetime;
    private bool _nopDue;
    private bool _stopped;
    private byte _version;

    public SmuxFrameSender(WebSocketConnection client, TunnelLifetime<SmuxEndReason> lifetime)
    {
        _client = client;
        _lifetime = lifetime;
        // Grown to the streams that have queued at once (at most the session's stream limit, a few resizes per session, never per
        // frame), not sized for that limit up front: an idle session would hold that room for its life.
        _dataReady = new Queue<SmuxStream>();
        _updatesDue = new Queue<SmuxStream>();
    }

    /// <summary>Set once the client's first frame fixed the version; frames in another version would end the client's session.</summary>
    public byte Version
    {
        get => Volatile.Read(ref _version);
        set => Volatile.Write(ref _version, value);
    }

    /// <summary>
    /// Queues the stream's prepared frame; the stream learns the outcome through <see cref="SmuxStream.OnFrameSent"/>.
    /// An idle sender runs here, on the stream's copy loop, until its next wait (the client's socket full, or nothing
    /// more to send): with the client keeping up, a turn goes out with no hop to another thread.
    /// </summary>
    public void EnqueueFrame(SmuxStream stream)
    {
        bool stopped;
        lock (_dataReady)
        {
            stopped = _stopped;
            if (!stopped) _dataReady.Enqueue(stream);
        }
        // Outside the lock, which the sender takes: a Stop meanwhile leaves it a wake-up and an empty queue.
        if (stopped) stream.OnFrameSent(false);
        else _wake.SetHere();
    }

    /// <summary>Queues a window update for the stream (version 2); the stream keeps at most one queued.</summary>
    public void EnqueueUpdate(SmuxStream stream)
    {
        lock (_dataReady)
        {
            if (_stopped) return;
            _updatesDue.Enqueue(stream);
            _wake.Set();
        }
    }

    public void RequestKeepAlive()
    {
        lock (_dataReady)
        {
            if (_stopped || Version == 0) return;
            _nopDue = true;
            _wake.Set();
        }
    }

    /// <summary>Sends until stopped or the client is gone; returns false when a send failed.</summary>
    public async Task<bool> RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await _wake.WaitAsync().ConfigureAwait(false);
                while (true)
                {
                    SmuxStream? stream;
                    bool update = false, nop = false;
                    lock (_dataReady)
                    {
                        if (_stopped) return true;
                        if (_nopDue)
                        {
                            _nopDue = false;
                            nop = true;
                            stream = null;
                        }
                        else if (_updatesDue.TryDequeue(out stream))
                        {
                            update = true;
                        }
                        else if (!_dataReady.TryDequeue(out stream))
                        {
                            break;
                        }
                    }

                    bool sent;
                    if (nop)
                    {
                        new SmuxFrameHeader(Version, SmuxCommand.Nop, 0, 0).Write(_controlFrame);
                        sent = await SendAsync(_controlFrame, SmuxFrameHeader.Size, cancellationToken).ConfigureAwait(false);
                    }
                    else if (update)
                    {
                        var (consumed, window) = stream!.TakeUpdate();
                        SmuxFrameHeader.WriteUpdate(_controlFrame, Version, stream.Id, consumed, window);
                        sent = await SendAsync(_controlFrame, _controlFrame.Length, cancellationToken).ConfigureAwait(false);
                    }
                    else if (stream!.PendingData.IsEmpty)
                    {
                        new SmuxFrameHeader(stream.Version, SmuxCommand.Fin, 0, stream.Id).Write(_controlFrame);
                        sent = await SendAsync(_controlFrame, SmuxFrameHeader.Size, cancellationToken).ConfigureAwait(false);
                        stream.OnFrameSent(sent);
                    }
                    else
                    {
                        sent = await SendDataAsync(stream.PendingData, stream.DataPrefix, cancellationToken).ConfigureAwait(false);
                        // Holding nothing, between two turns: the stream's copy loop runs on here until it waits again
                        // (its next turn queued, or its backend has nothing yet).
                        stream.OnFrameSent(sent, resumeHere: true);
                    }
                    if (!sent) return false;
                }
            }
        }
        finally
        {
            Stop();
        }
    }

    /// <summary>Refuses every frame from now on and releases the streams waiting on theirs.</summary>
    public void Stop()
    {
        SmuxStream[] waiting;
        lock (_dataReady)
        {
            if (_stopped && _dataReady.Count == 0) return;
            _stopped = true;
            waiting = _dataReady.ToArray();
            _dataReady.Clear();
            _updatesDue.Clear();
            _wake.Set();
        }
        foreach (var stream in waiting) stream.OnFrameSent(false);
    }

    private ValueTask<bool> SendAsync(byte[] frame, int length, CancellationToken cancellationToken) =>
        SendAsync(new ReadOnlySequence<byte>(frame, 0, length), SmuxFrameHeader.Size + SmuxFrameHeader.UpdateDataLength, default(NoPrefix), cancellationToken);

    // One stream's turn: its data as PSH frames of at most MaxFrameData each, framed as they are copied, one flush.
    private ValueTask<bool> SendDataAsync(ReadOnlySequence<byte> data, SmuxDataPrefix prefix, CancellationToken cancellationToken) =>
        SendAsync(data, SmuxStream.MaxFrameData, prefix, cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> SendAsync<TPrefix>(ReadOnlySequence<byte> data, int maxDataPerMessage, TPrefix prefix, CancellationToken cancellationToken)
        where TPrefix : struct, IMessagePrefix
    {
        _lifetime.ClientWriteStarted();
        try
        {
            return await _client.SendAsync(data, maxDataPerMessage, prefix, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // The client's connection broke or the session is ending: no frame will reach it any more.
            return false;
        }
        finally
        {
            _lifetime.ClientWriteEnded();
        }
    }
}
