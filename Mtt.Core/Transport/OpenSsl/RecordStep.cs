namespace Mtt.Core.Transport.OpenSsl;

/// <summary>What opening the next received record gave <see cref="Tls13RecordStream"/>.</summary>
internal enum RecordStep
{
    /// <summary>Application data, decrypted into the reader's buffer.</summary>
    Delivered,

    /// <summary>Application data, decrypted in place, waiting in the receive buffer.</summary>
    Buffered,

    /// <summary>A record with nothing for the reader (a KeyUpdate, an empty record): look at the next.</summary>
    Consumed,

    /// <summary>No whole record is buffered: receive more.</summary>
    NeedBytes,

    /// <summary>The client's close_notify.</summary>
    Closed,

    /// <summary>The client broke the protocol, or sent a fatal alert; the connection is over.</summary>
    Failed,
}
