using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Mtt.Core.ClientAddress;
using Mtt.Core.Cluster;
using Mtt.Core.Control.Http;
using Mtt.Core.Control.State;
using Mtt.Core.Diagnostics;
using Mtt.Core.Listening;
using Mtt.Core.Routing;
using Mtt.Core.Transport;
using Mtt.Core.Transport.OpenSsl;
using Mtt.Daemon.Systemd;

namespace Mtt.Daemon;

public static class Program
{
    // What a start-up failure (a bad certificate, a port in use) exits with; 2 stays for command-line errors.
    private const int StartFailedExitCode = 1;

    // How long the exit waits for stderr to take the queued log lines.
    private static readonly TimeSpan LogDrainTimeout = TimeSpan.FromSeconds(2);

    public static async Task<int> Main(string[] args)
    {
        // First: the runtime reads the variable when the first socket is made, and never again.
        string? completionsGiven = InlineCompletions.EnableUnlessSet();
        var parsed = CommandLine.Parse(args);
        if (parsed.Output is not null) Console.Out.Write(parsed.Output);
        if (parsed.Error is not null) Console.Error.Write(parsed.Error);
        if (parsed.Options is not { } options) return parsed.ExitCode;

        var log = ServerLog.Queued(Console.Error, options.Verbose, options.LogFormat, journal: JournalStream.IsStandardError());
        try
        {
            return await MainAsync(options, log, completionsGiven).ConfigureAwait(false);
        }
        finally
        {
            log.Drain(LogDrainTimeout);
        }
    }

    private static async Task<int> MainAsync(ServerOptions options, ServerLog log, string? completionsGiven)
    {
        if (log.IsEnabled(LogLevel.Debug))
        {
            DaemonLog.SocketCompletions(log, await InlineCompletions.ProbeAsync().ConfigureAwait(false) ? "on" : "off", InlineCompletions.Variable,
                completionsGiven ?? "1", completionsGiven is null ? "the daemon's default" : "set by the operator");
        }
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
        using var systemd = SystemdNotifier.FromEnvironment(Environment.GetEnvironmentVariable, log);
        return await RunAsync(options, log, stop.Token, cutDrain.Token, systemd).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts the tunnel and controller listeners and serves until <paramref name="stop"/> fires, then drains:
    /// new connections are refused, open tunnels get <see cref="ServerOptions.DrainTimeout"/> (or until
    /// <paramref name="cutDrain"/>) to end, and whatever is left is closed with 1001.
    /// </summary>
    internal static async Task<int> RunAsync(ServerOptions options, ILogger log, CancellationToken stop, CancellationToken cutDrain = default,
        SystemdNotifier? systemd = null)
    {
        systemd ??= SystemdNotifier.None;
        ServerCertificate? certificate;
        try
        {
            certificate = LoadCertificate(options, log) is { } loaded ? new ServerCertificate(loaded) : null;
        }
        catch (CertificateLoadException e)
        {
            DaemonLog.CertificateLoadFailed(log, e.Message);
            return StartFailedExitCode;
        }

        if (certificate is not null && options.Tunnel.TlsEngine == TlsEngine.OpenSsl)
        {
            if (OpenSslEngine.TryPrepare(certificate.Current, options.OpenSslLibrary, out string engine))
            {
                DaemonLog.TlsEngineReady(log, engine);
            }
            else if (options.TlsEngineGiven)
            {
                DaemonLog.TlsEngineUnusable(log, engine);
                return StartFailedExitCode;
            }
            else
            {
                // The default engine: a host without libssl.so.3 (only 1.1) still serves, through SslStream.
                DaemonLog.TlsEngineFallback(log, engine);
                options = options with { Tunnel = options.Tunnel with { TlsEngine = TlsEngine.SslStream } };
            }
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
            DaemonLog.ResolveFailed(log, e.Message, options.BindText, options.ControllerText);
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
            DaemonLog.StateFileUnusable(log, e.Message);
            return StartFailedExitCode;
        }

        var metrics = new ServerMetrics(options.MetricsPerUser) { LogLinesDroppedSource = log is ServerLog queued ? () => queued.LinesDropped : null };
        int maxConnections = options.Tunnel.MaxConnections;
        if (DescriptorBudget.MaxConnections() is { } allowed && allowed < maxConnections)
        {
            DaemonLog.DescriptorLimit(log, allowed, maxConnections);
            maxConnections = allowed;
        }
        var tunnelOptions = options.Tunnel with { Bind = bind, Certificate = certificate, MaxConnections = maxConnections };

        TunnelListener? started = null;
        string Status() => ServiceStatus(started, routes);
        using var reloader = options.CertPath is not null && certificate is not null
            ? new CertificateReloader(options.CertPath, options.KeyPath!, certificate, log)
            {
                Reloading = () => systemd.Reloading("reloading the certificate"),
                Reloaded = () => systemd.Ready(Status()),
            }
            : null;
        // Registered whatever the mode: SIGHUP's default action would end the process (systemctl reload).
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            if (reloader is null) DaemonLog.NothingToReload(log);
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
            DaemonLog.ListenFailed(log, e.Message, options.BindText, options.ControllerText);
            return StartFailedExitCode;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // -bind-unix: the path is taken by something that is not a stale socket, or cannot be written.
            DaemonLog.UnixSocketListenFailed(log, e.Message);
            return StartFailedExitCode;
        }

        started = tunnels;
        reloader?.StartWatching();
        if (controller.RequiresToken) DaemonLog.ControllerTokenRequired(log);
        else if (!IPAddress.IsLoopback(controller.LocalEndPoint.Address))
            DaemonLog.ControllerOpenToAll(log, controller.LocalEndPoint, ServerOptions.ControllerTokenVariable);
        string listening = options.BindUnix ? $"unix socket {options.BindText}" : tunnels.LocalEndPoint.ToString();
        cluster?.Announce(listening, () => tunnels.ActiveConnections);
        string backendProxy = tunnelOptions.SendProxy switch
        {
            ProxyHeaderVersion.None => "",
            ProxyHeaderVersion.V1 => ", PROXY v1 headers to backends",
            _ => ", PROXY v2 headers to backends",
        };
        DaemonLog.TunnelListening(log, listening, certificate is null ? "plain HTTP" : "TLS", tunnelOptions.MuxByDefault, GoDuration.Format(tunnelOptions.IdleTimeout), backendProxy);
        if (tunnelOptions.RequireProxyHeader) DaemonLog.ProxyHeaderRequired(log);
        if (tunnelOptions.TrustedProxies is { } trusted) DaemonLog.TrustedProxies(log, trusted.ToString()!);

        // Listeners bound and users loaded: what Type=notify waits for.
        systemd.Ready(Status());
        await new ServiceWatchdog(systemd, tunnels.Probe, Status, TimeProvider.System, log).RunAsync(stop).ConfigureAwait(false);
        try
        {
            await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        // GET /healthz answers 503 from here on, so a load balancer stops sending clients before the listener closes.
        controller.MarkDraining();
        systemd.Stopping($"draining {tunnels.ActiveConnections} tunnels");
        await DrainAsync(tunnels, options.DrainTimeout, log, cutDrain).ConfigureAwait(false);
        // Every user change was saved as it was made (RouteStore's save hook); what is left is the quota spent since.
        try
        {
            routes.SaveNow();
        }
        catch (StateFileException e)
        {
            DaemonLog.QuotaSpentNotSaved(log, e.Message);
        }
        DaemonLog.Stopping(log);
        return 0;
    }

    // STATUS= as `systemctl status` shows it.
    private static string ServiceStatus(TunnelListener? tunnels, RouteStore routes) =>
        $"serving: {tunnels?.ActiveConnections ?? 0} tunnels open, {routes.Current.Count} users";

    private static async Task DrainAsync(TunnelListener tunnels, TimeSpan drainTimeout, ILogger log, CancellationToken cutDrain)
    {
        tunnels.StopAccepting();
        int open = tunnels.ActiveConnections;
        DaemonLog.Draining(log, open, GoDuration.Format(drainTimeout));
        try
        {
            await tunnels.WhenNoConnections().WaitAsync(drainTimeout, cutDrain).ConfigureAwait(false);
            DaemonLog.Drained(log);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // Disposing the listener fires its stopping token: tunnels and smux sessions send close 1001.
            DaemonLog.DrainCut(log, tunnels.ActiveConnections);
        }
    }

    /// <summary>The users of <c>-state</c> (saved again at once, so an unwritable file stops the start too), or an empty table.</summary>
    private static RouteStore LoadUsers(ServerOptions options, ILogger log, out UserStateFile? file)
    {
        file = null;
        if (options.StatePath is null) return new RouteStore();
        file = new UserStateFile(options.StatePath);
        var table = file.Load(out bool existed);
        file.Save(table);
        if (existed) DaemonLog.UsersLoaded(log, table.Count, file.Path);
        else DaemonLog.StateFileCreated(log, file.Path);
        // With -redis the file is the copy of the shared table, saved by it after each change Redis took: a failed
        // save there cannot refuse a change the other instances already serve.
        return new RouteStore(table, options.Redis is null ? file.Save : null);
    }

    private static SslStreamCertificateContext? LoadCertificate(ServerOptions options, ILogger log)
    {
        if (options.CertPath is not null) return CertificateLoader.Load(options.CertPath, options.KeyPath!);
        if (!options.ForceTls) return null;
        DaemonLog.SelfSignedCertificate(log, options.ServerName);
        return SelfSignedCertificate.CreateContext(options.ServerName);
    }

    // A host name (the command line's DnsEndPoint) is resolved once, at start, as Go's net.Listen does.
    private static EndPoint Resolve(EndPoint endPoint) => endPoint is DnsEndPoint name
        ? new IPEndPoint(Dns.GetHostAddresses(name.Host)[0], name.Port)
        : endPoint;
}
