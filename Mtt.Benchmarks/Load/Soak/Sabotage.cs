namespace Mtt.Benchmarks.Load.Soak;

/// <summary>What a broken client or an attacker does to one of its own TLS writes.</summary>
internal enum Sabotage
{
    /// <summary>Flips one byte of the write: a ClientHello the server cannot parse, or a record that fails its MAC.</summary>
    CorruptByte,

    /// <summary>Sends part of the write, then a TCP reset: gone mid-record.</summary>
    TruncateThenReset,

    /// <summary>Sends part of the write, then a FIN: a record that never completes.</summary>
    TruncateThenClose,

    /// <summary>Sends a random record header and random body in front of the write.</summary>
    GarbageRecordFirst,

    /// <summary>Sends a record header claiming 0xFFFF bytes (over TLS's 16 KiB + 2 KiB limit) and its body in front of the write.</summary>
    OversizeRecordFirst,

    /// <summary>A TCP reset instead of the write.</summary>
    ResetInstead,
}
