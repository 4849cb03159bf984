namespace Mtt.Core.Mux;

/// <summary>The limits and timers of one smux session; <see cref="Listening.TunnelServerOptions"/> supplies them.</summary>
internal sealed record SmuxSessionOptions
{
    /// <summary>How often a NOP goes to the client (xtaci/smux and mtt-client: 30 s).</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A session from which nothing arrived for this long is closed (70 s, as the clients give up on us).</summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(70);

    /// <summary><c>-timeout</c>: a session with no stream open and no data for this long is closed.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Streams open at once; a SYN beyond this is refused with a FIN (docs/protocol.md §4.2).</summary>
    public int MaxStreams { get; init; } = 16;

    /// <summary>Version 1: client bytes read but not yet written to backends before the session stops reading.</summary>
    public int ReceiveBudget { get; init; } = 256 * 1024;

    /// <summary>How long the client gets to answer our close frame, and a write to the client in progress to finish once the session stops.</summary>
    public TimeSpan CloseHandshakeTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Where every timer of the session reads the time.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
