namespace Mtt.Core.Relay;

/// <summary>Why a tunnel ended, as the operator reads it in the log.</summary>
public enum TunnelEndReason
{
    ClientClosed,
    ClientDisconnected,
    ClientProtocolError,
    BackendClosed,
    BackendFailed,
    IdleTimeout,
    ServerStopping,

    /// <summary>The user was deleted or moved to another backend; closed with 1008.</summary>
    UserRemoved,

    /// <summary>A write to the client made no progress for the idle timeout (it stopped reading): cut, with no close frame.</summary>
    ClientStalled,

    /// <summary>The user's quota was spent or its expiry time came; closed with 1008.</summary>
    LimitReached,
}
