using System.Globalization;
using Mtt.Tests.Support;

namespace Mtt.Benchmarks.Load;

/// <summary>
/// The Go anchor in its own process (<see cref="GoAnchorBuild"/>): a tunnel server on the original server's stack
/// (crypto/tls, gorilla/websocket, xtaci/smux) routing <see cref="TunnelServerTarget.UserPath"/> to the echo backend,
/// or its crypto/tls TCP relay. The harness's TLS goals are ratios to it.
/// </summary>
internal sealed class GoAnchorTarget : IEchoTarget
{
    public const string TunnelKind = "go-tunnel";
    public const string RelayKind = "go-relay";
    private const string ReadyLine = "anchor ready ";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly TunnelClients? _clients;

    private GoAnchorTarget(ChildProcess process, bool tls, int port, TunnelClients? clients)
    {
        Process = process;
        Tls = tls;
        Port = port;
        _clients = clients;
    }

    public string Label => _clients is null
        ? $"go relay {TlsLabel}"
        : $"go tunnel {TlsLabel}{(_clients.Smux ? $" smux v{_clients.SmuxVersion}" : "")}";

    public string Kind => _clients is null ? RelayKind : TunnelKind;

    public bool Tls { get; }

    public int Port { get; }

    public ChildProcess Process { get; }

    private string TlsLabel => Tls ? "TLS" : "plain";

    /// <summary>The anchor's tunnel server, its smux sessions of the version the options ask for.</summary>
    public static async Task<GoAnchorTarget> StartTunnelAsync(LoadOptions options, bool tls, EchoBackend backend, CancellationToken cancellationToken)
    {
        List<string> arguments = ["-route", $"{TunnelServerTarget.UserPath}={backend.Address}", "-smux-version", options.SmuxVersion.ToString(CultureInfo.InvariantCulture)];
        var (process, port) = await StartAsync("go-anchor tunnel", arguments, tls, cancellationToken).ConfigureAwait(false);
        var clients = new TunnelClients(new Uri($"{(tls ? "wss" : "ws")}://127.0.0.1:{port}{TunnelServerTarget.UserPath}"), options.ChunkSize, options);
        return new GoAnchorTarget(process, tls, port, clients);
    }

    /// <summary>The anchor's TCP relay: crypto/tls (or bare TCP) in front of the echo backend.</summary>
    public static async Task<GoAnchorTarget> StartRelayAsync(bool tls, EchoBackend backend, CancellationToken cancellationToken)
    {
        var (process, port) = await StartAsync("go-anchor relay", ["-relay", backend.Address], tls, cancellationToken).ConfigureAwait(false);
        return new GoAnchorTarget(process, tls, port, null);
    }

    private static async Task<(ChildProcess Process, int Port)> StartAsync(string name, List<string> arguments, bool tls, CancellationToken cancellationToken)
    {
        string binary = await GoAnchorBuild.BuildAsync(cancellationToken).ConfigureAwait(false);
        arguments.AddRange(["-listen", "127.0.0.1:0"]);
        if (!tls) arguments.Add("-plain");
        var process = ChildProcess.Start(name, binary, arguments);
        try
        {
            string line = await process.WaitForLineAsync(l => l.StartsWith(ReadyLine, StringComparison.Ordinal), StartTimeout).ConfigureAwait(false);
            return (process, int.Parse(line.AsSpan(line.LastIndexOf(':') + 1), CultureInfo.InvariantCulture));
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task<EchoChannel> OpenAsync(CancellationToken cancellationToken) =>
        _clients is null
            ? await StreamEchoChannel.ConnectAsync(Port, Tls, cancellationToken).ConfigureAwait(false)
            : await _clients.OpenAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>One connection per tunnel to the relay; the tunnel server's channels as <see cref="TunnelClients"/> opens them.</summary>
    public Task<List<EchoChannel>> OpenChannelsAsync(int tunnels, CancellationToken cancellationToken) =>
        _clients is not null ? _clients.OpenChannelsAsync(tunnels, cancellationToken) : IEchoTarget.OpenEachAsync(this, tunnels, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        _clients?.Dispose();
        await Process.DisposeAsync().ConfigureAwait(false);
    }
}
