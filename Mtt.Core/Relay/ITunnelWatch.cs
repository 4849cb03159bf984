namespace Mtt.Core.Relay;

/// <summary>What a tunnel adds to its <see cref="TunnelLifetime{TReason}"/>'s watchdog: deadlines of its own, and what it does on stopping.</summary>
internal interface ITunnelWatch
{
    /// <summary>Whether the idle timeout runs now (an smux session's does only while no stream is open).</summary>
    bool IdleAllowed { get; }

    /// <summary>The earliest of the owner's own deadlines, in <see cref="TimeProvider.GetTimestamp"/> units.</summary>
    long NextDeadline { get; }

    /// <summary>Looks at the owner's deadlines on a watchdog tick; false when it stopped the tunnel.</summary>
    bool Check(long now);

    /// <summary>The tunnel is stopping: the owner stops what the lifetime does not know of.</summary>
    void OnStopping();

    /// <summary>A write to the client made no progress for the idle timeout; the lifetime cuts it next.</summary>
    void OnClientStalled();
}
