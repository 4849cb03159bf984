namespace Mtt.Core.Mux;

/// <summary>What became of client data handed to a stream (<see cref="SmuxStreamInput.Take"/>).</summary>
internal enum SmuxInputOutcome
{
    /// <summary>The stream takes no more (the client sent FIN, or the backend is gone): dropped, as smux drops data for a closed stream.</summary>
    Dropped,

    /// <summary>Queued, or written to the backend with the flush still pending: held, and counted until the flush completes.</summary>
    Held,

    /// <summary>Written to the backend and flushed at once: nothing is held.</summary>
    Delivered,

    /// <summary>The write to the backend failed: dropped, and the stream takes no more.</summary>
    Failed,
}
