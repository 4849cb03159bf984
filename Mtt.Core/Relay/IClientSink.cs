using System.Buffers;

namespace Mtt.Core.Relay;

/// <summary>
/// What <see cref="BackendToClientCopy"/> needs from one protocol to deliver a backend's bytes to its client:
/// a plain tunnel sends one WebSocket frame per chunk, an smux stream one PSH frame within the peer's window.
/// Implemented by structs, so the copy loop is compiled once per protocol and calls these directly.
/// </summary>
internal interface IClientSink
{
    /// <summary>The most a paced chunk may ask its user's bucket for at once.</summary>
    int MaxPacedChunk { get; }

    /// <summary>The bytes the client can take now, at most <paramref name="available"/>; 0 when it takes no more.</summary>
    ValueTask<int> RoomAsync(long available);

    /// <summary>Hands <paramref name="chunk"/> to the client; false (or a throw) when it did not go out.</summary>
    ValueTask<bool> SendAsync(in ReadOnlySequence<byte> chunk);

    /// <summary>The chunk went out: count and meter it; false when the loop should stop (the stream is aborting).</summary>
    bool Sent(int count);

    /// <summary>The chunk did not go out (<paramref name="error"/> when the send threw): the copy ends here.</summary>
    void NotSent(Exception? error);

    /// <summary>Every byte of a read went out: the backend is quiet for now.</summary>
    void Drained();

    /// <summary>The backend's side is over (or the client takes no more): tell the client.</summary>
    ValueTask EndAsync(BackendEnd end);
}
