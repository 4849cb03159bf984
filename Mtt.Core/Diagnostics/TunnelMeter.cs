using Mtt.Core.Routing;

namespace Mtt.Core.Diagnostics;

/// <summary>
/// What one tunnel (plain or smux session) counts into: its user's <see cref="UserState"/>, whose counters the
/// server's totals are summed from (<see cref="ServerTotals"/>), and the server's dial failures. Made once per
/// tunnel at routing time; every count is one Interlocked add.
/// </summary>
internal sealed class TunnelMeter(UserState user, ServerMetrics metrics)
{
    public UserState User { get; } = user;

    /// <summary>Fires when the user is deleted or moved to another backend: the tunnel closes with 1008.</summary>
    public CancellationToken Revoked => User.Revoked;

    /// <summary>Fires when the user's quota is spent or its expiry time comes: the tunnel closes with 1008. Taken once, at the tunnel's start.</summary>
    public CancellationToken LimitReached { get; } = user.Limiter.LimitReached;

    public void TunnelOpened()
    {
        User.TunnelOpened();
        metrics.Totals.TunnelOpened(User);
    }

    public void TunnelClosed() => User.TunnelClosed();

    public void StreamOpened() => User.StreamOpened();

    public void StreamClosed() => User.StreamClosed();

    public void FromClient(long bytes) => User.AddFromClient(bytes);

    public void ToClient(long bytes) => User.AddToClient(bytes);

    public void DialFailed() => metrics.DialFailed();
}
