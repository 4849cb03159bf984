using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Mtt.Core.ClientAddress;
using Mtt.Core.Cluster;
using Mtt.Core.Control.Http;
using Mtt.Core.Control.State;
using Mtt.Core.Diagnostics;
using Mtt.Core.Listening;
using Mtt.Core.Routing;

namespace Mtt.Daemon;

public static class Program
{
    // What a start-up failure (a bad certificate, a port in use) exits with; 2 stays for command-line errors.
    private const int StartFailedExitCode = 1;

    public static async Task<int> Main(string[] args)
    {
        var parsed = CommandLine.Parse(args);
        if (parsed.Output is not null) Console.Out.Write(parsed.Output);
        if (parsed.Error is not null) Console.Error.Write(parsed.Error);
        if (parsed.Options is not { } options) return parsed.ExitCode;

        var log = new ServerLog(Console.Error, options.Verbose);
        using var stop = new CancellationTokenSource();
        using var cutDrain = new CancellationTokenSource();
        int stopSignals = 0;
        // The first SIGTERM or SIGINT starts the drain; a second one (an impatient Ctrl-C) ends it at once.
        void OnStopSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            if (Interlocked.Increment(ref stopSignals) == 1) stop.Cancel();
            else cutDrain.Cancel();
        }
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnStopSignal);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnStopSignal);
        return await RunAsync(options, log, stop.Token, cutDrain.Token).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts the tunnel and controller listeners and serves until <paramref name="stop"/> fires, then drains:
    /// new connections are refused, open tunnels get <see cref="ServerOptions.DrainTimeout"/> (or until
    /// <paramref name="cutDrain"/>) to end, and whatever is left is closed with 1001.
    /// </summary>
    internal static async Task<int> RunAsync(ServerOptions options, ServerLog log, CancellationToken stop, CancellationToken cutDrain = default)
    {
        ServerCertificate? certificate;
        try
        {
            certificate = LoadCertificate(options, log) is { } loaded ? new ServerCertificate(loaded) : null;
        }
        catch (CertificateLoadException e)
        {
            log.Error(e.Message);
            return StartFailedExitCode;
        }

        EndPoint bind;
        EndPoint controllerBind;
        try
        {
            bind = Resolve(options.Tunnel.Bind);
            controllerBind = Resolve(options.Controller.Bind);
        }
        catch (SocketException e)
        {
            log.Error($"cannot resolve a listen address: {e.Message} (tunnel {options.BindText}, controller {options.ControllerText})");
            return StartFailedExitCode;
        }

        RouteStore routes;
        UserStateFile? stateFile;
        try
        {
            routes = LoadUsers(options, log, out stateFile);
        }
        catch (StateFileException e)
        {
            log.Error($"{e.Message}; not starting (fix or remove the file)");
            return StartFailedExitCode;
        }

        var metrics = new ServerMetrics(options.MetricsPerUser);
        int maxConnections = options.Tunnel.MaxConnections;
        if (DescriptorBudget.MaxConnections() is { } allowed && allowed < maxConnections)
        {
            log.Info($"the open-file limit allows {allowed} tunnels, below -max-connections {maxConnections}: limiting to {allowed} (raise LimitNOFILE / ulimit -n for more)");
            maxConnections = allowed;
        }
        var tunnelOptions = options.Tunnel with { Bind = bind, Certificate = certificate, MaxConnections = maxConnections };

        using var reloader = options.CertPath is not null && certificate is not null
            ? new CertificateReloader(options.CertPath, options.KeyPath!, certificate, log)
            : null;
        // Registered whatever the mode: SIGHUP's default action would end the process (systemctl reload).
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            if (reloader is null) log.Info("SIGHUP: no -cert/-key files to reload");
            else reloader.Reload("SIGHUP");
        });

        // Disposed after the listeners (declared before them): the heartbeat is withdrawn once the drain is over.
        await using var cluster = options.Redis is null ? null
            : await RedisUserTable.StartAsync(new ClusterOptions { Configuration = options.Redis, Prefix = options.RedisPrefix }, routes, stateFile, log).ConfigureAwait(false);
        await using var tunnels = new TunnelListener(tunnelOptions, routes, log, metrics);
        await using var controller = new ControllerServer(options.Controller with { Bind = controllerBind }, routes, log, metrics, table: cluster);
        try
        {
            tunnels.Start();
            controller.Start();
        }
        catch (SocketException e)
        {
            log.Error($"cannot listen: {e.Message} (tunnel {options.BindText}, controller {options.ControllerText})");
            return StartFailedExitCode;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // -bind-unix: the path is taken by something that is not a stale socket, or cannot be written.
            log.Error($"cannot listen on the Unix socket: {e.Message}");
            return StartFailedExitCode;
        }

        reloader?.StartWatching();
        if (controller.RequiresToken) log.Info("controller requires a bearer token (Authorization: Bearer ...)");
        else if (!IPAddress.IsLoopback(controller.LocalEndPoint.Address))
            log.Warn($"controller on {controller.LocalEndPoint} is reachable beyond loopback and has no token: anyone who can reach it can add users; set -c-token or ${ServerOptions.ControllerTokenVariable}, or bind it to 127.0.0.1");
        // The TCP form "tunnel listener on 127.0.0.1:8443 (" is what scripts and tests read the port from; a Unix socket shows its path.
        string listening = options.BindUnix ? $"unix socket {options.BindText}" : tunnels.LocalEndPoint.ToString();
        cluster?.Announce(listening, () => tunnels.ActiveConnections);
        log.Info($"tunnel listener on {listening} ({(certificate is null ? "plain HTTP" : "TLS")}, mux by default: {tunnelOptions.MuxByDefault}, idle timeout {GoDuration.Format(tunnelOptions.IdleTimeout)}" +
            $"{(tunnelOptions.SendProxy == ProxyHeaderVersion.None ? "" : $", PROXY {(tunnelOptions.SendProxy == ProxyHeaderVersion.V1 ? "v1" : "v2")} headers to backends")})");
        if (tunnelOptions.RequireProxyHeader) log.Info("every tunnel connection must start with a PROXY protocol header (v1 or v2): only the proxy should reach the port");
        if (tunnelOptions.TrustedProxies is { } trusted) log.Info($"X-Forwarded-For / X-Real-IP believed from {trusted} only");

        try
        {
            await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await DrainAsync(tunnels, options.DrainTimeout, log, cutDrain).ConfigureAwait(false);
        // Every user change was saved as it was made (RouteStore's save hook), so there is nothing left to write.
        log.Info("stopping");
        return 0;
    }

    private static async Task DrainAsync(TunnelListener tunnels, TimeSpan drainTimeout, ServerLog log, CancellationToken cutDrain)
    {
        tunnels.StopAccepting();
        int open = tunnels.ActiveConnections;
        log.Info($"draining: new connections refused, {open} open, waiting up to {GoDuration.Format(drainTimeout)} for them to end (a second signal closes them now)");
        try
        {
            await tunnels.WhenNoConnections().WaitAsync(drainTimeout, cutDrain).ConfigureAwait(false);
            log.Info("drained: no connection open");
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // Disposing the listener fires its stopping token: tunnels and smux sessions send close 1001.
            log.Info($"{tunnels.ActiveConnections} connections still open after the drain; closing them (1001 going away)");
        }
    }

    /// <summary>The users of <c>-state</c> (saved again at once, so an unwritable file stops the start too), or an empty table.</summary>
    private static RouteStore LoadUsers(ServerOptions options, ServerLog log, out UserStateFile? file)
    {
        file = null;
        if (options.StatePath is null) return new RouteStore();
        file = new UserStateFile(options.StatePath);
        var table = file.Load(out bool existed);
        file.Save(table);
        log.Info(existed ? $"loaded {table.Count} users from {file.Path}" : $"state file {file.Path} created (no users yet)");
        // With -redis the file is the copy of the shared table, saved by it after each change Redis took: a failed
        // save there cannot refuse a change the other instances already serve.
        return new RouteStore(table, options.Redis is null ? file.Save : null);
    }

    private static SslStreamCertificateContext? LoadCertificate(ServerOptions options, ServerLog log)
    {
        if (options.CertPath is not null) return CertificateLoader.Load(options.CertPath, options.KeyPath!);
        if (!options.ForceTls) return null;
        log.Info($"generated a self-signed ECDSA P-256 certificate for {options.ServerName}");
        return SelfSignedCertificate.CreateContext(options.ServerName);
    }

    // A host name (the command line's DnsEndPoint) is resolved once, at start, as Go's net.Listen does.
    private static EndPoint Resolve(EndPoint endPoint) => endPoint is DnsEndPoint name
        ? new IPEndPoint(Dns.GetHostAddresses(name.Host)[0], name.Port)
        : endPoint;
}
