using System.Net;
using System.Net.Sockets;
using Mtt.Tests.Support;

namespace Mtt.Benchmarks.Load;

/// <summary>The real mtt-mu-server in its own process, with one user routed to the echo backend.</summary>
internal sealed class TunnelServerTarget : IEchoTarget
{
    public const string UserPath = "/load";

    // An idle client holds little: ClientWebSocket's buffers are not what is measured, the server's memory is.
    private const int IdleClientBufferSize = 4096;

    // A cold `dotnet` start, certificate generation included, takes a second or two on a busy machine.
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly HttpMessageInvoker _invoker;
    private readonly Uri _uri;
    private readonly int _clientBufferSize;
    private readonly byte _smuxVersion;
    private readonly int _streamsPerSession;

    private TunnelServerTarget(ChildProcess process, bool tls, int tunnelPort, int controllerPort, int clientBufferSize, LoadOptions options)
    {
        _smuxVersion = options.Smux ? options.SmuxVersion : (byte)0;
        _streamsPerSession = options.Streams;
        Process = process;
        Tls = tls;
        TunnelPort = tunnelPort;
        ControllerPort = controllerPort;
        _clientBufferSize = clientBufferSize;
        _uri = new Uri($"{(tls ? "wss" : "ws")}://127.0.0.1:{tunnelPort}{UserPath}");
        _invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            // The server's certificate is self-signed and made at its start (-force-tls): accept any.
            SslOptions = { RemoteCertificateValidationCallback = static (_, _, _, _) => true },
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        });
    }

    public string Label => $"tunnel {(Tls ? "TLS" : "plain")}{(Smux ? $" smux v{_smuxVersion}" : "")}";

    /// <summary>Clients open smux_on sessions and echo through their streams, rather than smux_off tunnels.</summary>
    public bool Smux => _smuxVersion != 0;

    public string Kind => "tunnel";

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
    public async Task<EchoChannel> OpenAsync(CancellationToken cancellationToken)
    {
        if (!Smux) return await WebSocketEchoChannel.ConnectAsync(_uri, _invoker, _clientBufferSize, keepAlive: true, cancellationToken).ConfigureAwait(false);
        var session = await SmuxClientSession.ConnectAsync(_uri, _invoker, _smuxVersion, _clientBufferSize, SmuxClientSession.BulkReadBufferSize, cancellationToken).ConfigureAwait(false);
        return await OpenStreamOrDisposeAsync(session, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One channel per tunnel; with smux, <paramref name="tunnels"/> sessions of --streams streams each, all SYNs sent.</summary>
    public async Task<List<EchoChannel>> OpenChannelsAsync(int tunnels, CancellationToken cancellationToken)
    {
        var channels = new List<EchoChannel>(tunnels * _streamsPerSession);
        try
        {
            for (int i = 0; i < tunnels; i++)
            {
                if (!Smux)
                {
                    channels.Add(await OpenAsync(cancellationToken).ConfigureAwait(false));
                    continue;
                }
                var session = await SmuxClientSession.ConnectAsync(_uri, _invoker, _smuxVersion, _clientBufferSize, SmuxClientSession.BulkReadBufferSize, cancellationToken).ConfigureAwait(false);
                channels.Add(await OpenStreamOrDisposeAsync(session, cancellationToken).ConfigureAwait(false));
                for (int s = 1; s < _streamsPerSession; s++) channels.Add(await session.OpenStreamAsync(cancellationToken).ConfigureAwait(false));
            }
            return channels;
        }
        catch
        {
            foreach (var channel in channels) await channel.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>An idle tunnel (no keep-alive pings, a small client buffer), or with smux an idle session with one stream open.</summary>
    public async Task<EchoChannel> OpenIdleAsync(CancellationToken cancellationToken)
    {
        if (!Smux) return await WebSocketEchoChannel.ConnectAsync(_uri, _invoker, IdleClientBufferSize, keepAlive: false, cancellationToken).ConfigureAwait(false);
        var session = await SmuxClientSession.ConnectAsync(_uri, _invoker, _smuxVersion, IdleClientBufferSize, SmuxClientSession.IdleReadBufferSize, cancellationToken).ConfigureAwait(false);
        return await OpenStreamOrDisposeAsync(session, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<SmuxClientStream> OpenStreamOrDisposeAsync(SmuxClientSession session, CancellationToken cancellationToken)
    {
        try
        {
            return await session.OpenStreamAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _invoker.Dispose();
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
