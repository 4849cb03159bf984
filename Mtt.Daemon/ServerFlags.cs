using CommandLine;
using Mtt.Core.Cluster;

namespace Mtt.Daemon;

/// <summary>
/// The flags as declared, one property each, filled by CommandLineParser from the argv that
/// <see cref="GoFlagSyntax"/> rewrote. Values are still raw text here; <see cref="CommandLine"/> validates them.
/// </summary>
/// <remarks>
/// Go has no short/long distinction, but the library insists that a long name has two letters or more, so the
/// one-letter flags are declared as short names and the rest as long names; <see cref="GoFlagSyntax"/> writes each
/// in the form the library reads. <c>MetaValue</c> is the type word Go's usage text
/// shows after the name ("string", "duration"; none for a boolean). The names are the original server's, so the
/// operators' systemd units keep working.
/// </remarks>
internal sealed class ServerFlags
{
    public const string DefaultBind = "127.0.0.1:8443";
    public const string DefaultController = "127.0.0.1:8080";
    public const string DefaultTimeout = "1m0s";
    public const string DefaultServerName = "localhost";
    public const string DefaultMaxConnections = "10000";
    public const string DefaultMaxHandshakes = "1000";
    public const string DefaultMaxPendingPerIp = "64";
    public const string DefaultDrainTimeout = "10s";
    public const string DefaultTlsEngine = "openssl";
    public const string DefaultLogFormat = "text";

    [Option('b', Default = DefaultBind, MetaValue = "string",
        HelpText = "[host:port] tunnel listener, e.g. '0.0.0.0:443' or ':443' for every interface; [path] with -bind-unix")]
    public string Bind { get; set; } = DefaultBind;

    [Option("bind-unix", HelpText = "-b is the path of a Unix domain socket to listen on (mode 0666, removed at exit), for nginx or HAProxy on the same host")]
    public bool BindUnix { get; set; }

    [Option('c', Default = DefaultController, MetaValue = "string",
        HelpText = "[host:port] controller listener (JSON commands over HTTP POST); keep it off public interfaces")]
    public string Controller { get; set; } = DefaultController;

    [Option("c-token", MetaValue = "string",
        HelpText = "bearer token every controller request (GET /metrics too) must send as 'Authorization: Bearer TOKEN', else 401; without the flag, $MTT_CONTROLLER_TOKEN if set (keeps it out of ps)")]
    public string? ControllerToken { get; set; }

    [Option("mux", HelpText = "treat a client that offers no subprotocol as multiplexed (smux)")]
    public bool Mux { get; set; }

    [Option("cert", MetaValue = "string",
        HelpText = "[path] PEM certificate chain, leaf first; with -key the listener speaks TLS")]
    public string? Cert { get; set; }

    [Option("key", MetaValue = "string",
        HelpText = "[path] PEM private key of -cert (PKCS#8, PKCS#1 or SEC1; not encrypted)")]
    public string? Key { get; set; }

    [Option("force-tls", HelpText = "speak TLS even without -cert/-key, with a self-signed certificate for -n made at start")]
    public bool ForceTls { get; set; }

    [Option('n', Default = DefaultServerName, MetaValue = "string",
        HelpText = "server name (DNS name or IP) put in the self-signed certificate of -force-tls")]
    public string ServerName { get; set; } = DefaultServerName;

    [Option("timeout", Default = DefaultTimeout, MetaValue = "duration",
        HelpText = "idle timeout of a connection, e.g. 30s, 5m, 1h30m")]
    public string Timeout { get; set; } = DefaultTimeout;

    [Option("drain-timeout", Default = DefaultDrainTimeout, MetaValue = "duration",
        HelpText = "on SIGTERM/SIGINT, new connections are refused and open tunnels get this long to end on their own before they are closed (1001); 0 closes them at once")]
    public string DrainTimeout { get; set; } = DefaultDrainTimeout;

    [Option("tls-engine", Default = DefaultTlsEngine, MetaValue = "string",
        HelpText = "what computes TLS: openssl (libssl.so.3 called directly: less CPU per byte and memory per connection; without that library the default falls back to sslstream with a warning) or sslstream (.NET's SslStream); see the README")]
    public string TlsEngine { get; set; } = DefaultTlsEngine;

    /// <summary>-tls-engine was on the command line (not a flag of its own: set by the parser).</summary>
    public bool TlsEngineGiven { get; set; }

    [Option("verbose", HelpText = "log each connection, route miss and error")]
    public bool Verbose { get; set; }

    [Option("log-format", Default = DefaultLogFormat, MetaValue = "string",
        HelpText = "text (Go's lines; under systemd each line starts with its journal priority, without a timestamp) or json (one object a line: time, level, event, id, message and the event's fields)")]
    public string LogFormat { get; set; } = DefaultLogFormat;

    [Option("state", MetaValue = "string",
        HelpText = "[path] keep the user table in this file: loaded at start, saved after every change, so users survive a restart")]
    public string? State { get; set; }

    [Option("metrics-per-user", HelpText = "GET /metrics on the controller also has one series per user, labelled by its name (or a short hash of its path)")]
    public bool MetricsPerUser { get; set; }

    [Option("send-proxy", MetaValue = "string",
        HelpText = "v1 or v2: every backend connection starts with a PROXY protocol header carrying the client's address; empty for none")]
    public string? SendProxy { get; set; }

    [Option("max-connections", Default = DefaultMaxConnections, MetaValue = "int",
        HelpText = "tunnel connections open at once; one more is accepted and closed at once")]
    public string MaxConnections { get; set; } = DefaultMaxConnections;

    [Option("max-handshakes", Default = DefaultMaxHandshakes, MetaValue = "int",
        HelpText = "TLS handshakes being computed at once (a connection waiting for the client's bytes holds none); one more waits its turn (within the 10 s handshake timeout)")]
    public string MaxHandshakes { get; set; } = DefaultMaxHandshakes;

    [Option("max-pending-per-ip", Default = DefaultMaxPendingPerIp, MetaValue = "int",
        HelpText = "connections from one client address (the PROXY header's source with -proxy-protocol) still in their handshake; one more is accepted and closed at once; 0 for no limit")]
    public string MaxPendingPerIp { get; set; } = DefaultMaxPendingPerIp;

    [Option("proxy-protocol",
        HelpText = "every tunnel connection starts with a PROXY protocol header, v1 or v2 (HAProxy send-proxy, nginx stream proxy_protocol on), before TLS; its source address is the client's in logs; a connection without one is closed. Let only the proxy reach the port")]
    public bool ProxyProtocol { get; set; }

    [Option("trusted-proxy", MetaValue = "string",
        HelpText = "[CIDR,...] believe X-Forwarded-For / X-Real-IP only from peers in these ranges, e.g. '127.0.0.1/32,10.0.0.0/8,::1/128'; from anyone else they are ignored")]
    public string? TrustedProxy { get; set; }

    [Option("redis", MetaValue = "string",
        HelpText = "share the user table and counters with other instances through Redis: a StackExchange.Redis configuration, e.g. '127.0.0.1:6379', 'r1:6379,r2:6379,password=...', 'ssl=true', 'serviceName=' for Sentinel; -state then keeps the local copy served while Redis is down")]
    public string? Redis { get; set; }

    [Option("redis-prefix", Default = ClusterOptions.DefaultPrefix, MetaValue = "string",
        HelpText = "prefix of every Redis key and channel, so several clusters can share one Redis; on Redis Cluster put it in braces, e.g. '{mtt}:'")]
    public string RedisPrefix { get; set; } = ClusterOptions.DefaultPrefix;

    // The original server's flags that old units still pass. -disable-tls: plain HTTP is already the default
    // here, so it only has to agree with the rest. -fast-open: a request the listener honours where it can.
    [Option("disable-tls", HelpText = "speak plain HTTP behind a TLS-terminating proxy (the default; kept for old command lines)")]
    public bool DisableTls { get; set; }

    [Option("version", HelpText = "print the version and the commit it was built from, and exit")]
    public bool Version { get; set; }

    [Option("fast-open", HelpText = "(Linux) TCP Fast Open on the tunnel listener; the kernel needs the server bit too: sysctl -w net.ipv4.tcp_fastopen=3")]
    public bool FastOpen { get; set; }
}
