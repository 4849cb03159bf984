namespace Mtt.Core.Mux;

/// <summary>How a smux session went: why it ended, and what it carried.</summary>
public readonly record struct SmuxSessionResult(
    SmuxEndReason Reason,
    SmuxProtocolError ProtocolError,
    int StreamsOpened,
    int StreamsRefused,
    long BytesFromClient,
    long BytesToClient);
