using System.Net;
using System.Net.Sockets;
using Mtt.Tests.Support;

namespace Mtt.Benchmarks.Load;

/// <summary>The real mtt-mu-server in its own process, with one user routed to the echo backend.</summary>
internal sealed class TunnelServerTarget : IEchoTarget
{
    public const string UserPath = "/load";

    // A cold `dotnet` start, certificate generation included, takes a second or two on a busy machine.
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly TunnelClients _clients;

    private TunnelServerTarget(ChildProcess process, bool tls, int tunnelPort, int controllerPort, int clientBufferSize, LoadOptions options)
    {
        Process = process;
        Tls = tls;
        TunnelPort = tunnelPort;
        ControllerPort = controllerPort;
        _clients = new TunnelClients(new Uri($"{(tls ? "wss" : "ws")}://127.0.0.1:{tunnelPort}{UserPath}"), clientBufferSize, options);
    }

    public string Label => $"tunnel {(Tls ? "TLS" : "plain")}{(Smux ? $" smux v{_clients.SmuxVersion}" : "")}";

    /// <summary>Clients open smux_on sessions and echo through their streams, rather than smux_off tunnels.</summary>
    public bool Smux => _clients.Smux;

    public string Kind => "tunnel";

    /// <summary>The harness's clients of this server, as opened by <see cref="OpenAsync"/>.</summary>
    public TunnelClients Clients => _clients;

    public bool Tls { get; }

    public ChildProcess Process { get; }

    public int TunnelPort { get; }

    public int ControllerPort { get; }

    /// <summary>Starts the server, waits for its controller to answer, and adds the user <see cref="UserPath"/> pointing at <paramref name="backend"/>.</summary>
    public static async Task<TunnelServerTarget> StartAsync(LoadOptions options, bool tls, EchoBackend backend, CancellationToken cancellationToken)
    {
        int tunnelPort = FreePort();
        int controllerPort = FreePort();
        var (fileName, arguments) = ServerLocator.CommandFor(options.ServerPath);
        arguments.AddRange(["-b", $"127.0.0.1:{tunnelPort}", "-c", $"127.0.0.1:{controllerPort}", "-timeout", options.ServerTimeout]);
        if (tls) arguments.Add("-force-tls");
        if (options.VerboseServer) arguments.Add("-verbose");
        arguments.AddRange(options.ServerArguments);

        var process = ChildProcess.Start("mtt-mu-server", fileName, arguments, options.ServerEnvironment);
        var target = new TunnelServerTarget(process, tls, tunnelPort, controllerPort, options.ChunkSize, options);
        try
        {
            using var controller = new ControllerClient(controllerPort);
            var deadline = DateTime.UtcNow + StartTimeout;
            // The server is another process and signals readiness only by answering: poll its controller.
            while (!await controller.PingAsync().ConfigureAwait(false))
            {
                process.ThrowIfExited();
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"mtt-mu-server did not answer on its controller within {StartTimeout.TotalSeconds:0} s");
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
            await controller.AddUserAsync(UserPath, backend.Address).ConfigureAwait(false);
            return target;
        }
        catch
        {
            await target.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A tunnel, or with smux a session carrying one stream (which ends the session when closed).</summary>
    public Task<EchoChannel> OpenAsync(CancellationToken cancellationToken) => _clients.OpenAsync(cancellationToken);

    public Task<List<EchoChannel>> OpenChannelsAsync(int tunnels, CancellationToken cancellationToken) => _clients.OpenChannelsAsync(tunnels, cancellationToken);

    /// <summary>An idle tunnel (no keep-alive pings, a small client buffer), or with smux an idle session with one stream open.</summary>
    public Task<EchoChannel> OpenIdleAsync(CancellationToken cancellationToken) => _clients.OpenIdleAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        _clients.Dispose();
        await Process.DisposeAsync().ConfigureAwait(false);
    }

    // The daemon takes fixed ports on its command line; a port just released by the kernel is free enough.
    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
