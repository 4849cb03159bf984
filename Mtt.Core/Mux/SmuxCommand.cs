namespace Mtt.Core.Mux;

/// <summary>The smux frame commands (xtaci/smux frame.go); UPD exists only in protocol version 2.</summary>
public enum SmuxCommand : byte
{
    /// <summary>Opens a stream.</summary>
    Syn = 0,

    /// <summary>The sender will send no more on the stream (EOF).</summary>
    Fin = 1,

    /// <summary>Data for the stream.</summary>
    Psh = 2,

    /// <summary>Keepalive; carries nothing.</summary>
    Nop = 3,

    /// <summary>Version 2 flow control: bytes consumed and the receive window, 4 bytes each, little-endian.</summary>
    Upd = 4,
}
