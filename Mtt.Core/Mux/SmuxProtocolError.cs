namespace Mtt.Core.Mux;

/// <summary>Why the smux byte stream was refused; each ends the session (close 1002).</summary>
public enum SmuxProtocolError
{
    None,

    /// <summary>The first frame's version is neither 1 nor 2.</summary>
    UnsupportedVersion,

    /// <summary>A frame's version differs from the session's, which the first frame fixed.</summary>
    VersionChanged,

    /// <summary>A command smux does not define, or UPD in a version 1 session.</summary>
    UnknownCommand,

    /// <summary>SYN, FIN or NOP with data, or UPD whose data is not exactly 8 bytes.</summary>
    InvalidLength,
}
