namespace Mtt.Benchmarks.Load.Soak;

/// <summary>One way of hitting the TLS port that no honest client uses; the soak cycles through all of them.</summary>
internal enum HostileKind
{
    /// <summary>A real TLS 1.2 or 1.3 client that breaks one of its writes (<see cref="Sabotage"/>) at a random stage.</summary>
    SabotagedHandshake,

    /// <summary>The same, with every write before the break sent one byte per segment, each after a 0-byte send.</summary>
    DribbledSabotage,

    /// <summary>Random records before any ClientHello.</summary>
    GarbageFirst,

    /// <summary>A record header claiming 0xFFFF bytes, then its body.</summary>
    OversizeFirst,

    /// <summary>Part of a real ClientHello, then FIN or RST.</summary>
    TruncatedHello,

    /// <summary>A complete tunnel upgrade, then close_notify, then more records on the same socket.</summary>
    DataAfterCloseNotify,

    /// <summary>A complete tunnel upgrade and one frame, then a TCP half-close with no close_notify and no WebSocket close.</summary>
    HalfClose,

    /// <summary>A handshake whose first 1..5 header bytes arrive, then nothing until the server gives up.</summary>
    Stub,
}
