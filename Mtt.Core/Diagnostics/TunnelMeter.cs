using Mtt.Core.Routing;

namespace Mtt.Core.Diagnostics;

/// <summary>
/// What one tunnel (plain or smux session) counts into: its user's <see cref="UserState"/> and the server's
/// <see cref="ServerMetrics"/>. Made once per tunnel at routing time; every count is an Interlocked add.
/// </summary>
internal sealed class TunnelMeter(UserState user, ServerMetrics metrics)
{
    public UserState User { get; } = user;

    /// <summary>Fires when the user is deleted or moved to another backend: the tunnel closes with 1008.</summary>
    public CancellationToken Revoked => User.Revoked;

    public void TunnelOpened()
    {
        User.TunnelOpened();
        metrics.TunnelOpened();
    }

    public void TunnelClosed()
    {
        User.TunnelClosed();
        metrics.TunnelClosed();
    }

    public void StreamOpened()
    {
        User.StreamOpened();
        metrics.StreamOpened();
    }

    public void StreamClosed()
    {
        User.StreamClosed();
        metrics.StreamClosed();
    }

    public void FromClient(long bytes)
    {
        User.AddFromClient(bytes);
        metrics.AddFromClient(bytes);
    }

    public void ToClient(long bytes)
    {
        User.AddToClient(bytes);
        metrics.AddToClient(bytes);
    }

    public void DialFailed() => metrics.DialFailed();
}
