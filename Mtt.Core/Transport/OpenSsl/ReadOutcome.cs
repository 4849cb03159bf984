namespace Mtt.Core.Transport.OpenSsl;

/// <summary>What one non-blocking read of decrypted bytes found.</summary>
internal enum ReadOutcome
{
    /// <summary>Bytes were decrypted (for a zero-byte read: bytes are ready).</summary>
    Data,

    /// <summary>Nothing decrypted yet: wait until the socket is readable.</summary>
    WouldBlock,

    /// <summary>The peer ended the stream (close_notify or TCP FIN).</summary>
    End,

    /// <summary>A protocol error or a reset; the stream is unusable.</summary>
    Failed,
}
