namespace Mtt.Core.Diagnostics;

/// <summary>
/// The server-wide counters behind <c>GET /metrics</c>: one <see cref="Interlocked"/> operation per event,
/// no lock and no allocation. Label sets are fixed here (refusal reasons, known opts), so a client cannot
/// grow the exposition by sending odd requests. Tunnels, streams and bytes are not counted here but summed
/// from the users' counters (<see cref="Totals"/>), so the relay counts each message once.
/// </summary>
public sealed class ServerMetrics
{
    /// <summary>The opts that get their own <c>opt</c> label; any other value is counted as "other".</summary>
    internal static readonly int[] KnownOpts = [1, 2, 3, 4, 5, 6, 9];

    private readonly long[] _refused = new long[Enum.GetValues<HandshakeRefusal>().Length];
    // [opt index (KnownOpts, then "other")][0 ok, 1 error]
    private readonly long[] _commands = new long[(KnownOpts.Length + 1) * 2];
    private long _dialFailures;

    /// <param name="perUser"><c>-metrics-per-user</c>: the exposition carries one series per user, labelled by its name.</param>
    public ServerMetrics(bool perUser = false)
    {
        PerUser = perUser;
    }

    public bool PerUser { get; }

    /// <summary>The tunnels, streams and bytes of every user, those deleted since included.</summary>
    internal ServerTotals Totals { get; } = new();

    public long TunnelsActive => Totals.Read().TunnelsActive;

    public long TunnelsTotal => Totals.Read().TunnelsOpened;

    public long StreamsActive => Totals.Read().StreamsActive;

    public long StreamsTotal => Totals.Read().StreamsOpened;

    public long BytesFromClient => Totals.Read().FromClient;

    public long BytesToClient => Totals.Read().ToClient;

    public long DialFailures => Volatile.Read(ref _dialFailures);

    /// <summary>Where log lines dropped for a stalled stderr are counted (the daemon's <see cref="ServerLog.LinesDropped"/>); none: 0.</summary>
    public Func<long>? LogLinesDroppedSource { get; init; }

    public long LogLinesDropped => LogLinesDroppedSource?.Invoke() ?? 0;

    public long Refused(HandshakeRefusal reason) => Volatile.Read(ref _refused[(int)reason]);

    /// <summary>Commands answered for <paramref name="optIndex"/> (an index into <see cref="KnownOpts"/>, or its length for "other").</summary>
    internal long Commands(int optIndex, bool ok) => Volatile.Read(ref _commands[optIndex * 2 + (ok ? 0 : 1)]);

    public void DialFailed() => Interlocked.Increment(ref _dialFailures);

    public void HandshakeRefused(HandshakeRefusal reason) => Interlocked.Increment(ref _refused[(int)reason]);

    public static HandshakeRefusal RefusalFor(int status) => status switch
    {
        400 => HandshakeRefusal.BadRequest,
        404 => HandshakeRefusal.NoUser,
        405 => HandshakeRefusal.MethodNotAllowed,
        426 => HandshakeRefusal.NotWebSocket,
        431 => HandshakeRefusal.HeadTooLarge,
        _ => HandshakeRefusal.OtherStatus,
    };

    /// <summary>A controller command was answered; <paramref name="opt"/> 0 means the body was not a command.</summary>
    public void CommandAnswered(int opt, bool ok)
    {
        int index = Array.IndexOf(KnownOpts, opt);
        if (index < 0) index = KnownOpts.Length;
        Interlocked.Increment(ref _commands[index * 2 + (ok ? 0 : 1)]);
    }
}
