namespace Mtt.Core.Mux;

/// <summary>What became of client data handed to a stream (<see cref="SmuxStreamInput.Take"/>).</summary>
internal enum SmuxInputOutcome
{
    /// <summary>The stream takes no more (the client sent FIN, or the backend is gone): dropped, as smux drops data for a closed stream.</summary>
    Dropped,

    /// <summary>Held: queued, or written to the backend behind bytes the reader has still to flush.</summary>
    Held,

    /// <summary>
    /// Written to the backend, the first since the reader's last flush of this stream: held, and the reader flushes
    /// the stream (<see cref="SmuxStreamInput.FlushWritten"/>) before it waits for anything.
    /// </summary>
    HeldUntilFlush,
}
