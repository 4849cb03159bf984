using System.Net;
using Microsoft.Extensions.Time.Testing;
using Mtt.Core.Diagnostics;
using Mtt.Core.Listening;
using Mtt.Core.Routing;
using Mtt.Core.Transport;
using Mtt.Tests.Support;

namespace Mtt.Tests.Hardening.Faults;

/// <summary>
/// A tunnel listener with its metrics, one scripted echo backend, and the bystanders of a fault test: a
/// plain tunnel and an smux session's stream of the user <see cref="BystanderPath"/>, echoing throughout.
/// </summary>
internal sealed class FaultyNetwork : IAsyncDisposable
{
    public const string BystanderPath = "/bystander";

    /// <summary>Generous: a 2-core machine shared with other builds can stall a process for seconds.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private readonly List<Bystander> _bystanders = [];
    private readonly List<IAsyncDisposable> _clients = [];
    private SmuxTestClient? _bystanderSession;
    private readonly StringWriter _logText = new();
    // Synchronized locks on itself: reading the text under the same lock sees whole lines.
    private readonly TextWriter _log;

    private FaultyNetwork(TunnelServerOptions options)
    {
        _log = TextWriter.Synchronized(_logText);
        Time = options.Time as FakeTimeProvider;
        Metrics = new ServerMetrics();
        // Verbose: when a bystander fails, the server's own account of why its tunnel ended goes with the failure.
        Listener = new TunnelListener(options, Routes, new ServerLog(_log, verbose: true), Metrics);
        Listener.Start();
        AddUser(BystanderPath, Backend.Address);
    }

    public EchoBackend Backend { get; } = new(scripted: true);

    public RouteStore Routes { get; } = new();

    public ServerMetrics Metrics { get; }

    public TunnelListener Listener { get; }

    public int Port => Listener.LocalEndPoint.Port;

    public IReadOnlyList<Bystander> Bystanders => _bystanders;

    /// <summary>The clock of the tunnels' timeouts when the test drives it (<see cref="Start"/> with a fake clock), else null.</summary>
    public FakeTimeProvider? Time { get; }

    /// <param name="time">A fake clock for the tunnels' timeouts (idle, stalled client, keepalive, close grace), moved by <see cref="AdvanceAsync"/>.</param>
    public static FaultyNetwork Start(TimeSpan? idleTimeout = null, TimeSpan? keepAliveInterval = null, TimeSpan? keepAliveTimeout = null, FakeTimeProvider? time = null) => new(new TunnelServerOptions
    {
        Bind = new IPEndPoint(IPAddress.Loopback, 0),
        IdleTimeout = idleTimeout ?? TimeSpan.FromMinutes(1),
        SmuxKeepAliveInterval = keepAliveInterval ?? TimeSpan.FromSeconds(30),
        SmuxKeepAliveTimeout = keepAliveTimeout ?? TimeSpan.FromSeconds(70),
        Time = time ?? TimeProvider.System,
    });

    /// <summary>How far the fake clock moves at once: well under any timeout a test sets, so the bystanders' activity falls in every step.</summary>
    public static readonly TimeSpan Step = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Moves the fake clock on by <paramref name="by"/>, a <see cref="Step"/> at a time, each step only once every
    /// bystander has echoed a round (and <paramref name="activity"/>, if given, has completed) at the current
    /// time: they are never quiet for a whole step, while a silent client's clock runs on.
    /// </summary>
    public async Task AdvanceAsync(TimeSpan by, Func<Task>? activity = null)
    {
        var time = Time ?? throw new InvalidOperationException("the network runs on the system clock");
        for (var moved = TimeSpan.Zero; moved < by; moved += Step)
        {
            await BystandersAdvancedAsync(1);
            if (activity is not null) await activity().WaitAsync(Bound);
            var step = by - moved < Step ? by - moved : Step;
            // Off the test's synchronisation context: the clock runs the server's timer callbacks on the advancing thread.
            await Task.Run(() => time.Advance(step));
        }
    }

    /// <summary>
    /// Moves the fake clock a <see cref="Step"/> at a time (as <see cref="AdvanceAsync"/>) until <paramref name="ended"/>
    /// completes or the clock has moved <paramref name="limit"/>; returns how far it moved.
    /// </summary>
    public async Task<TimeSpan> AdvanceUntilAsync(Task ended, TimeSpan limit, Func<Task>? activity = null)
    {
        var moved = TimeSpan.Zero;
        while (!ended.IsCompleted && moved < limit)
        {
            await AdvanceAsync(Step, activity);
            moved += Step;
            // The server acts on a deadline off the test's thread: give the end a bystander round to show.
            await Task.WhenAny(ended, BystandersAdvancedAsync(1));
        }
        return moved;
    }

    public void AddUser(string path, string dst)
    {
        if (!BackendAddress.TryParse(dst, out var backend, out var error)) throw new ArgumentException(error);
        Routes.Update(table => table.WithAdded([new Route(path, backend)]));
    }

    public UserState User(string path) => Routes.Current.TryGet(path, out var route) ? route.State : throw new KeyNotFoundException(path);

    /// <summary>A raw client past its 101 (a plain tunnel unless told); disposed with the network.</summary>
    public async Task<RawWebSocketClient> PlainAsync(string path, string subprotocol = "smux_off")
    {
        var client = await RawWebSocketClient.ConnectAsync(Port).WaitAsync(Bound);
        _clients.Add(client);
        var (status, head) = await client.UpgradeAsync(path, subprotocol).WaitAsync(Bound);
        Assert.True(status == 101, head);
        return client;
    }

    /// <summary>An smux session (version 1 unless told); disposed with the network.</summary>
    public async Task<SmuxTestClient> SmuxAsync(string path, byte version = 1)
    {
        var client = await SmuxTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{Port}{path}"), version).WaitAsync(Bound);
        _clients.Add(client);
        return client;
    }

    /// <summary>Starts the bystanders: a plain tunnel, and a stream of its own smux session (plus <paramref name="session"/>'s, if given).</summary>
    public async Task StartBystandersAsync(SmuxTestClient? session = null)
    {
        _bystanders.Add(Bystander.Plain("plain bystander", await PlainAsync(BystanderPath), seed: 1));
        _bystanderSession = await SmuxAsync(BystanderPath);
        _bystanders.Add(Bystander.Smux("smux bystander", await _bystanderSession.OpenStreamAsync(), seed: 2));
        if (session is not null) _bystanders.Add(Bystander.Smux("sibling stream", await session.OpenStreamAsync(), seed: 3));
        await BystandersAdvancedAsync();
    }

    /// <summary>Every bystander echoed a few more rounds byte-exact from now: it flows while the fault happens.</summary>
    public Task BystandersAdvancedAsync(int rounds = 3) => WithServerLogAsync(Task.WhenAll(_bystanders.Select(b => b.AdvancedAsync(rounds, Bound))));

    /// <summary>What the server logged so far (verbose: every tunnel's and stream's end, with its reason).</summary>
    public string ServerLogText
    {
        get { lock (_log) return _logText.ToString(); }
    }

    /// <summary>A bystander's failure, with the server's log appended: it says which side ended the tunnel, and why.</summary>
    private async Task WithServerLogAsync(Task bystanders)
    {
        try
        {
            await bystanders;
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new Xunit.Sdk.XunitException($"{e.GetType().Name}: {e.Message}\nthe server's log:\n{ServerLogText}", e);
        }
    }

    /// <summary>Stops the bystanders and asserts each lost nothing and closed cleanly, their own smux session included.</summary>
    public async Task StopBystandersAsync()
    {
        var stopping = Task.WhenAll(_bystanders.Select(b => b.StopAsync(Bound)));
        await WithServerLogAsync(stopping);
        var totals = await stopping;
        Assert.All(totals, total => Assert.True(total >= 3 * Bystander.RoundBytes));
        _bystanders.Clear();
        if (_bystanderSession is not null) await CloseSessionAsync(_bystanderSession);
    }

    /// <summary>The end of a fault test: the bystanders stopped (having lost nothing), then every connection ended.</summary>
    public async Task StopBystandersAndWaitForNoConnectionsAsync()
    {
        await StopBystandersAsync();
        await Listener.WhenNoConnections().WaitAsync(Bound);
    }

    /// <summary>Closes an smux session as the client would, and asserts the server answered 1000.</summary>
    public static async Task CloseSessionAsync(SmuxTestClient session)
    {
        await session.SendCloseAsync().WaitAsync(Bound);
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, await session.Closed.WaitAsync(Bound));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            try { await client.DisposeAsync().AsTask().WaitAsync(Bound); } catch (Exception) { }
        }
        await Listener.DisposeAsync().AsTask().WaitAsync(Bound);
        await Backend.DisposeAsync().AsTask().WaitAsync(Bound);
    }
}
