using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Mtt.Core.Control;
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
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.Cancel(); });
        return await RunAsync(options, log, stop.Token).ConfigureAwait(false);
    }

    /// <summary>Starts the tunnel and controller listeners and serves until <paramref name="stop"/> fires.</summary>
    internal static async Task<int> RunAsync(ServerOptions options, ServerLog log, CancellationToken stop)
    {
        SslStreamCertificateContext? certificate;
        try
        {
            certificate = LoadCertificate(options, log);
        }
        catch (CertificateLoadException e)
        {
            log.Error(e.Message);
            return StartFailedExitCode;
        }

        IPEndPoint bind, controllerBind;
        try
        {
            bind = ResolveEndPoint(options.BindAddress);
            controllerBind = ResolveEndPoint(options.ControllerAddress);
        }
        catch (SocketException e)
        {
            log.Error($"cannot resolve a listen address: {e.Message} (tunnel {options.Bind}, controller {options.Controller})");
            return StartFailedExitCode;
        }

        RouteStore routes;
        try
        {
            routes = LoadUsers(options, log);
        }
        catch (StateFileException e)
        {
            log.Error($"{e.Message}; not starting (fix or remove the file)");
            return StartFailedExitCode;
        }

        var metrics = new ServerMetrics(options.MetricsPerUser);
        var tunnelOptions = new TunnelServerOptions
        {
            Bind = bind,
            Certificate = certificate,
            MuxByDefault = options.Mux,
            IdleTimeout = options.Timeout,
            MaxConnections = options.MaxConnections,
            MaxHandshakes = options.MaxHandshakes,
        };

        await using var tunnels = new TunnelListener(tunnelOptions, routes, log, metrics);
        await using var controller = new ControllerServer(controllerBind, routes, log, metrics: metrics);
        try
        {
            tunnels.Start();
            controller.Start();
        }
        catch (SocketException e)
        {
            log.Error($"cannot listen: {e.Message} (tunnel {options.Bind}, controller {options.Controller})");
            return StartFailedExitCode;
        }

        log.Info($"tunnel listener on {tunnels.LocalEndPoint} ({(certificate is null ? "plain HTTP" : "TLS")}, mux by default: {options.Mux}, idle timeout {GoDuration.Format(options.Timeout)})");

        try
        {
            await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        log.Info("stopping");
        return 0;
    }

    /// <summary>The users of <c>-state</c> (saved again at once, so an unwritable file stops the start too), or an empty table.</summary>
    private static RouteStore LoadUsers(ServerOptions options, ServerLog log)
    {
        if (options.StatePath is null) return new RouteStore();
        var file = new UserStateFile(options.StatePath);
        var table = file.Load(out bool existed);
        file.Save(table);
        log.Info(existed ? $"loaded {table.Count} users from {file.Path}" : $"state file {file.Path} created (no users yet)");
        return new RouteStore(table, file.Save);
    }

    private static SslStreamCertificateContext? LoadCertificate(ServerOptions options, ServerLog log)
    {
        if (options.CertPath is not null) return CertificateLoader.Load(options.CertPath, options.KeyPath!);
        if (!options.ForceTls) return null;
        log.Info($"generated a self-signed ECDSA P-256 certificate for {options.ServerName}");
        return SelfSignedCertificate.CreateContext(options.ServerName);
    }

    // A host name is resolved once, at start, as Go's net.Listen does; ":port" means every interface.
    private static IPEndPoint ResolveEndPoint(ListenAddress address)
    {
        if (address.IsAnyHost) return new IPEndPoint(IPAddress.IPv6Any, address.Port);
        if (IPAddress.TryParse(address.Host, out var ip)) return new IPEndPoint(ip, address.Port);
        return new IPEndPoint(Dns.GetHostAddresses(address.Host)[0], address.Port);
    }
}
