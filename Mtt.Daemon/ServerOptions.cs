using Mtt.Core.ClientAddress;
using Mtt.Core.Listening;

namespace Mtt.Daemon;

/// <summary>The command line, parsed and validated: everything here is usable as it is.</summary>
public sealed class ServerOptions
{
    internal ServerOptions(
        ListenAddress? bind, ListenAddress controller, bool mux, string? certPath, string? keyPath, bool forceTls,
        TimeSpan timeout, bool verbose, string serverName, bool fastOpen, string bindText, string controllerText,
        string? statePath = null, bool metricsPerUser = false,
        int maxConnections = TunnelServerOptions.DefaultMaxConnections, int maxHandshakes = TunnelServerOptions.DefaultMaxHandshakes,
        TimeSpan? drainTimeout = null, string? controllerToken = null,
        bool bindUnix = false, ProxyHeaderVersion sendProxy = ProxyHeaderVersion.None,
        bool proxyProtocol = false, TrustedProxies? trustedProxies = null,
        int maxPendingPerIp = TunnelServerOptions.DefaultMaxPendingPerAddress)
    {
        MaxPendingPerIp = maxPendingPerIp;
        BindUnix = bindUnix;
        SendProxy = sendProxy;
        ProxyProtocol = proxyProtocol;
        TrustedProxies = trustedProxies;
        MaxConnections = maxConnections;
        MaxHandshakes = maxHandshakes;
        ControllerToken = controllerToken;
        DrainTimeout = drainTimeout ?? DefaultDrainTimeout;
        StatePath = statePath;
        MetricsPerUser = metricsPerUser;
        BindAddress = bind;
        ControllerAddress = controller;
        Bind = bindText;
        Controller = controllerText;
        Mux = mux;
        CertPath = certPath;
        KeyPath = keyPath;
        ForceTls = forceTls;
        Timeout = timeout;
        Verbose = verbose;
        ServerName = serverName;
        FastOpen = fastOpen;
    }

    /// <summary>The environment variable read for the controller token when <c>-c-token</c> is not given.</summary>
    public const string ControllerTokenVariable = "MTT_CONTROLLER_TOKEN";

    /// <summary><c>-c-token</c> (or <see cref="ControllerTokenVariable"/>): the controller's bearer token, or null for none.</summary>
    public string? ControllerToken { get; }

    /// <summary>The default of <c>-drain-timeout</c>, well inside systemd's 90 s stop timeout.</summary>
    public static readonly TimeSpan DefaultDrainTimeout = TimeSpan.FromSeconds(10);

    /// <summary><c>-drain-timeout</c>: how long open tunnels may go on after a stop signal; never negative.</summary>
    public TimeSpan DrainTimeout { get; }

    /// <summary><c>-b</c> as given: the tunnel listener. Loopback by default so the bare command serves out of the box.</summary>
    public string Bind { get; }

    /// <summary><c>-c</c> as given: the controller listener.</summary>
    public string Controller { get; }

    /// <summary><see cref="Bind"/> parsed; <see cref="ListenAddress.IsAnyHost"/> for <c>:port</c>. Null with <see cref="BindUnix"/>.</summary>
    public ListenAddress? BindAddress { get; }

    /// <summary><c>-bind-unix</c>: <see cref="Bind"/> is the path of a Unix domain socket.</summary>
    public bool BindUnix { get; }

    /// <summary><c>-send-proxy</c>: the PROXY protocol header each backend connection starts with, or none.</summary>
    public ProxyHeaderVersion SendProxy { get; }

    /// <summary><see cref="Controller"/> parsed.</summary>
    public ListenAddress ControllerAddress { get; }

    /// <summary><c>-max-connections</c>: tunnel connections open at once, at least 1.</summary>
    public int MaxConnections { get; }

    /// <summary><c>-max-handshakes</c>: handshakes in progress at once, at least 1.</summary>
    public int MaxHandshakes { get; }

    /// <summary><c>-max-pending-per-ip</c>: connections per client address in their handshake at once; 0 for no limit.</summary>
    public int MaxPendingPerIp { get; }

    /// <summary><c>-mux</c>: a client that offers no subprotocol is multiplexed.</summary>
    public bool Mux { get; }

    /// <summary><c>-cert</c>; set if and only if <see cref="KeyPath"/> is.</summary>
    public string? CertPath { get; }

    /// <summary><c>-key</c>; set if and only if <see cref="CertPath"/> is.</summary>
    public string? KeyPath { get; }

    /// <summary><c>-force-tls</c> as given; with <c>-cert</c> it changes nothing (the certificate files win).</summary>
    public bool ForceTls { get; }

    /// <summary><c>-timeout</c>: idle timeout of a connection, always positive.</summary>
    public TimeSpan Timeout { get; }

    /// <summary><c>-verbose</c>.</summary>
    public bool Verbose { get; }

    /// <summary><c>-n</c>: the name in the self-signed certificate.</summary>
    public string ServerName { get; }

    /// <summary><c>-fast-open</c>: TCP Fast Open on the tunnel listener (Linux, TCP); elsewhere a warning at start.</summary>
    public bool FastOpen { get; }

    /// <summary><c>-state</c>: the user table's file, or null to start empty and keep users in memory only.</summary>
    public string? StatePath { get; }

    /// <summary><c>-metrics-per-user</c>: per-user series in <c>GET /metrics</c>.</summary>
    public bool MetricsPerUser { get; }

    /// <summary><c>-proxy-protocol</c>: every tunnel connection starts with a PROXY protocol header.</summary>
    public bool ProxyProtocol { get; }

    /// <summary><c>-trusted-proxy</c>: whose X-Forwarded-For / X-Real-IP is believed; null for nobody.</summary>
    public TrustedProxies? TrustedProxies { get; }

    /// <summary><c>-redis</c>: the StackExchange.Redis configuration of the shared user table, or null to run alone.</summary>
    public string? Redis { get; init; }

    /// <summary><c>-redis-prefix</c>: the prefix of every key and channel of this cluster.</summary>
    public string RedisPrefix { get; init; } = Mtt.Core.Cluster.ClusterOptions.DefaultPrefix;

    public bool UseTls => CertPath is not null || ForceTls;

    /// <summary>TLS with a certificate made at start for <see cref="ServerName"/>, because no files were given.</summary>
    public bool UseSelfSignedCertificate => CertPath is null && ForceTls;
}
