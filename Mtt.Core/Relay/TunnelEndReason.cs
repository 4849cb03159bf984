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
}
