using Mtt.Core.Transport.OpenSsl;
using System.Net.Sockets;
using Mtt.Core.Control.Http;
using Mtt.Core.Diagnostics;
using Mtt.Core.Listening;

namespace Mtt.Daemon;

/// <summary>
/// The command line, parsed and validated: everything here is usable as it is. What the tunnel and controller
/// listeners take is in <see cref="Tunnel"/> and <see cref="Controller"/>, passed to them as they are; the rest
/// is the daemon's own.
/// </summary>
/// <remarks>
/// A flag is three changes: its <see cref="FlagDeclaration"/>, a property here or in one of the two option
/// records (set in <see cref="CommandLine"/>), and its use.
/// </remarks>
public sealed record ServerOptions
{
    /// <summary>The environment variable read for the controller token when <c>-c-token</c> is not given.</summary>
    public const string ControllerTokenVariable = "MTT_CONTROLLER_TOKEN";

    /// <summary>The default of <c>-drain-timeout</c>, well inside systemd's 90 s stop timeout.</summary>
    public static readonly TimeSpan DefaultDrainTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// <c>-b</c>, <c>-bind-unix</c>, <c>-mux</c>, <c>-timeout</c>, <c>-fast-open</c>, <c>-send-proxy</c>, <c>-proxy-protocol</c>,
    /// <c>-trusted-proxy</c> and the limits. Its <see cref="TunnelServerOptions.Bind"/> is a <see cref="System.Net.DnsEndPoint"/>
    /// for a host name, resolved at start; the certificate is added at start too.
    /// </summary>
    public required TunnelServerOptions Tunnel { get; init; }

    /// <summary><c>-c</c> and <c>-c-token</c> (or <see cref="ControllerTokenVariable"/>).</summary>
    public required ControllerServerOptions Controller { get; init; }

    /// <summary><c>-b</c> as given, for messages: the tunnel listener's host:port, or with <c>-bind-unix</c> the socket's path.</summary>
    public required string BindText { get; init; }

    /// <summary><c>-c</c> as given, for messages.</summary>
    public required string ControllerText { get; init; }

    /// <summary><c>-bind-unix</c>: the tunnel listener is a Unix domain socket at <see cref="BindText"/>.</summary>
    public bool BindUnix => Tunnel.Bind is UnixDomainSocketEndPoint;

    /// <summary><c>-drain-timeout</c>: how long open tunnels may go on after a stop signal; never negative.</summary>
    public TimeSpan DrainTimeout { get; init; } = DefaultDrainTimeout;

    /// <summary><c>-cert</c>; set if and only if <see cref="KeyPath"/> is.</summary>
    public string? CertPath { get; init; }

    /// <summary><c>-key</c>; set if and only if <see cref="CertPath"/> is.</summary>
    public string? KeyPath { get; init; }

    /// <summary><c>-force-tls</c> as given; with <c>-cert</c> it changes nothing (the certificate files win).</summary>
    public bool ForceTls { get; init; }

    /// <summary><c>-log-format</c>: text (Go's lines, or journal priorities when stderr is the journal) or JSON.</summary>
    public LogFormat LogFormat { get; init; }

    /// <summary><c>-n</c>: the name in the self-signed certificate.</summary>
    public string ServerName { get; init; } = ServerFlags.DefaultServerName;

    /// <summary><c>-verbose</c>.</summary>
    public bool Verbose { get; init; }

    /// <summary><c>-state</c>: the user table's file, or null to start empty and keep users in memory only.</summary>
    /// <remarks>The daemon's: the user table is shared by the tunnel and controller listeners.</remarks>
    public string? StatePath { get; init; }

    /// <summary><c>-metrics-per-user</c>: per-user series in <c>GET /metrics</c>.</summary>
    /// <remarks>The daemon's: it shapes the metrics both listeners record into.</remarks>
    public bool MetricsPerUser { get; init; }

    /// <summary><c>-redis</c>: the StackExchange.Redis configuration of the shared user table, or null to run alone.</summary>
    public string? Redis { get; init; }

    /// <summary><c>-redis-prefix</c>: the prefix of every key and channel of this cluster.</summary>
    public string RedisPrefix { get; init; } = Mtt.Core.Cluster.ClusterOptions.DefaultPrefix;

    /// <summary>
    /// <c>-tls-engine</c> was on the command line. An engine given there that cannot run stops the start; the default
    /// one (openssl) falls back to sslstream with a warning, so a host without libssl.so.3 still serves.
    /// </summary>
    public bool TlsEngineGiven { get; init; }

    /// <summary>The libssl the openssl engine needs; tests name one that is not there to see the fallback.</summary>
    internal string OpenSslLibrary { get; init; } = OpenSslEngine.Library;

    public bool UseTls => CertPath is not null || ForceTls;

    /// <summary>TLS with a certificate made at start for <see cref="ServerName"/>, because no files were given.</summary>
    public bool UseSelfSignedCertificate => CertPath is null && ForceTls;
}
