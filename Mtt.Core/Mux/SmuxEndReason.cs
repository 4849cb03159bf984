namespace Mtt.Core.Mux;

/// <summary>Why a smux session ended, as the operator reads it in the log.</summary>
public enum SmuxEndReason
{
    /// <summary>The client sent a WebSocket close frame.</summary>
    ClientClosed,

    /// <summary>The client's connection ended or broke without a close frame.</summary>
    ClientDisconnected,

    /// <summary>The client broke RFC 6455; the WebSocket layer closed with its code.</summary>
    WebSocketProtocolError,

    /// <summary>The client broke the smux protocol (a bad version or command); closed with 1002.</summary>
    SmuxProtocolError,

    /// <summary>Nothing arrived from the client within the keepalive timeout.</summary>
    KeepAliveTimeout,

    /// <summary>No stream open and no data either way for the idle timeout.</summary>
    IdleTimeout,

    ServerStopping,

    /// <summary>The user was deleted or moved to another backend; closed with 1008.</summary>
    UserRemoved,

    /// <summary>A write to the client made no progress for the idle timeout (it stopped reading): cut, with no close frame.</summary>
    ClientStalled,

    /// <summary>The user's quota was spent or its expiry time came; closed with 1008.</summary>
    LimitReached,
}
