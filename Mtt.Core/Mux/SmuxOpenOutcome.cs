namespace Mtt.Core.Mux;

/// <summary>What became of a client's SYN.</summary>
internal enum SmuxOpenOutcome
{
    /// <summary>A stream was opened, or one with that id is registered already (the SYN is then ignored, as xtaci/smux does).</summary>
    Opened,

    /// <summary>The session's streams are all in use: the client gets a FIN straight back.</summary>
    Refused,

    /// <summary>Ended streams still finishing fill the registry: the SYN waits until one is gone.</summary>
    NoRoomYet,
}
