using Microsoft.Extensions.Logging;
using Mtt.Core.Diagnostics;

namespace Mtt.Daemon;

/// <summary>The daemon's own events: start-up, what it serves, SIGHUP, the drain and the stop.</summary>
[LogEventRange(1000, 1099)]
internal static partial class DaemonLog
{
    [LoggerMessage(1001, LogLevel.Error, "{error}")]
    public static partial void CertificateLoadFailed(ILogger logger, string error);

    [LoggerMessage(1002, LogLevel.Error, "cannot resolve a listen address: {error} (tunnel {tunnel}, controller {controller})")]
    public static partial void ResolveFailed(ILogger logger, string error, string tunnel, string controller);

    [LoggerMessage(1003, LogLevel.Error, "{error}; not starting (fix or remove the file)")]
    public static partial void StateFileUnusable(ILogger logger, string error);

    [LoggerMessage(1004, LogLevel.Information, "the open-file limit allows {allowed} tunnels, below -max-connections {maxConnections}: limiting to {allowed} (raise LimitNOFILE / ulimit -n for more)")]
    public static partial void DescriptorLimit(ILogger logger, int allowed, int maxConnections);

    [LoggerMessage(1005, LogLevel.Information, "SIGHUP: no -cert/-key files to reload")]
    public static partial void NothingToReload(ILogger logger);

    [LoggerMessage(1006, LogLevel.Error, "cannot listen: {error} (tunnel {tunnel}, controller {controller})")]
    public static partial void ListenFailed(ILogger logger, string error, string tunnel, string controller);

    [LoggerMessage(1007, LogLevel.Error, "cannot listen on the Unix socket: {error}")]
    public static partial void UnixSocketListenFailed(ILogger logger, string error);

    [LoggerMessage(1008, LogLevel.Information, "controller requires a bearer token (Authorization: Bearer ...)")]
    public static partial void ControllerTokenRequired(ILogger logger);

    [LoggerMessage(1009, LogLevel.Warning, "controller on {endPoint} is reachable beyond loopback and has no token: anyone who can reach it can add users; set -c-token or ${tokenVariable}, or bind it to 127.0.0.1")]
    public static partial void ControllerOpenToAll(ILogger logger, System.Net.IPEndPoint endPoint, string tokenVariable);

    /// <summary>"tunnel listener on 127.0.0.1:8443 (" is what scripts and tests read the port from; a Unix socket shows its path.</summary>
    [LoggerMessage(1010, LogLevel.Information, "tunnel listener on {listening} ({transport}, mux by default: {mux}, idle timeout {idleTimeout}{backendProxy})")]
    public static partial void TunnelListening(ILogger logger, string listening, string transport, bool mux, string idleTimeout, string backendProxy);

    [LoggerMessage(1011, LogLevel.Information, "every tunnel connection must start with a PROXY protocol header (v1 or v2): only the proxy should reach the port")]
    public static partial void ProxyHeaderRequired(ILogger logger);

    [LoggerMessage(1012, LogLevel.Information, "X-Forwarded-For / X-Real-IP believed from {trustedProxies} only")]
    public static partial void TrustedProxies(ILogger logger, string trustedProxies);

    [LoggerMessage(1013, LogLevel.Information, "stopping")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(1014, LogLevel.Information, "draining: new connections refused, {open} open, waiting up to {drainTimeout} for them to end (a second signal closes them now)")]
    public static partial void Draining(ILogger logger, int open, string drainTimeout);

    [LoggerMessage(1015, LogLevel.Information, "drained: no connection open")]
    public static partial void Drained(ILogger logger);

    [LoggerMessage(1016, LogLevel.Information, "{open} connections still open after the drain; closing them (1001 going away)")]
    public static partial void DrainCut(ILogger logger, int open);

    [LoggerMessage(1017, LogLevel.Information, "loaded {users} users from {stateFile}")]
    public static partial void UsersLoaded(ILogger logger, int users, string stateFile);

    [LoggerMessage(1018, LogLevel.Information, "state file {stateFile} created (no users yet)")]
    public static partial void StateFileCreated(ILogger logger, string stateFile);

    [LoggerMessage(1019, LogLevel.Information, "generated a self-signed ECDSA P-256 certificate for {serverName}")]
    public static partial void SelfSignedCertificate(ILogger logger, string serverName);

    [LoggerMessage(1020, LogLevel.Information, "watchdog: the tunnel listener accepts again; telling systemd the server is alive")]
    public static partial void WatchdogRecovered(ILogger logger);

    [LoggerMessage(1021, LogLevel.Warning, "watchdog: a probe connection to the tunnel listener failed ({why}); not telling systemd the server is alive, it restarts the service after WatchdogSec= without a ping")]
    public static partial void WatchdogProbeFailed(ILogger logger, string why);

    [LoggerMessage(1022, LogLevel.Warning, "NOTIFY_SOCKET={socket} is neither a path nor an abstract name (@...): not notifying systemd")]
    public static partial void NotifySocketInvalid(ILogger logger, string socket);

    [LoggerMessage(1023, LogLevel.Warning, "cannot notify systemd on NOTIFY_SOCKET ({error}); serving on, systemd judges by its timeouts")]
    public static partial void NotifyFailed(ILogger logger, string error);

    [LoggerMessage(1024, LogLevel.Information, "{engine}")]
    public static partial void TlsEngineReady(ILogger logger, string engine);

    [LoggerMessage(1025, LogLevel.Error, "{error}")]
    public static partial void TlsEngineUnusable(ILogger logger, string error);

    [LoggerMessage(1026, LogLevel.Warning, "{error}; serving TLS with -tls-engine sslstream instead (give -tls-engine sslstream to say so, or install libssl3)")]
    public static partial void TlsEngineFallback(ILogger logger, string error);

    [LoggerMessage(1030, LogLevel.Warning, "{error}: the quota spent since the last change is lost")]
    public static partial void QuotaSpentNotSaved(ILogger logger, string error);

    [LoggerMessage(1031, LogLevel.Debug, "socket completions inline: {inline} ({variable}={value}, {chosenBy})")]
    public static partial void SocketCompletions(ILogger logger, string inline, string variable, string value, string chosenBy);
}
