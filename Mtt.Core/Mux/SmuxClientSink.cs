using System.Buffers;
using Mtt.Core.Relay;

namespace Mtt.Core.Mux;

/// <summary>
/// An smux stream's client as <see cref="BackendToClientCopy"/> sees it: each chunk is one PSH frame within
/// the client's window (version 2), handed to the session's sender; the backend's end is our FIN.
/// </summary>
internal readonly struct SmuxClientSink(SmuxStream stream) : IClientSink
{
    // A chunk is at most one turn's frames already.
    public int MaxPacedChunk => SmuxStream.MaxDataPerTurn;

    public ValueTask<int> RoomAsync(long available) => stream.RoomAsync(available);

    public ValueTask<bool> SendAsync(in ReadOnlySequence<byte> chunk) => stream.SendDataAsync(chunk);

    public bool Sent(int count) => stream.DataSent(count);

    // The sender could not send it, or the session is ending: the stream ends with it, no FIN.
    public void NotSent(Exception? error)
    {
    }

    // The data was the backend's own read buffer: nothing of ours to give back.
    public void Drained()
    {
    }

    public ValueTask EndAsync(BackendEnd end) => stream.BackendEndedAsync(end);
}
