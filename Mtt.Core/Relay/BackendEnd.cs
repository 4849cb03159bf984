namespace Mtt.Core.Relay;

/// <summary>How the backend-to-client direction ended, as <see cref="IClientSink.EndAsync"/> hears it.</summary>
internal enum BackendEnd
{
    /// <summary>The backend finished its output (a FIN), or the client will take no more.</summary>
    Closed,

    /// <summary>The backend's input ended with a reset (<see cref="Transport.SocketTransport.WasReset"/>).</summary>
    Reset,

    /// <summary>Reading the backend failed.</summary>
    Failed,
}
