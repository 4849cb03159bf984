using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Mtt.Core.ClientAddress;
using Mtt.Core.Cluster;
using Mtt.Core.Control.Http;
using Mtt.Core.Diagnostics;
using Mtt.Core.Listening;
using Mtt.Core.Transport;

namespace Mtt.Daemon;

/// <summary>
/// The server's command line (docs/protocol.md §1): Go <c>flag</c> syntax, the original server's flag names,
/// exit code 2 with the usage text on a mistake.
/// </summary>
/// <remarks>
/// <c>-h</c>, <c>-help</c> and <c>--help</c> put the usage on stdout and exit 0, where Go writes it to stderr:
/// help that was asked for is output, so <c>mtt-mu-server -h | less</c> works. Errors go to stderr as in Go.
/// <c>-cert</c> with <c>-force-tls</c> is accepted and the certificate files win: both ask for TLS, and refusing
/// to start over a redundant flag would help nobody.
/// </remarks>
public static class CommandLine
{
    public const string ProgramName = "mtt-mu-server";

    /// <summary>The usage text, every flag with its default, in the layout of Go's <c>PrintDefaults</c>.</summary>
    public static string Usage { get; } = GoUsage.Format(ProgramName, FlagDeclaration.All);

    /// <summary>Never throws or exits; returns what Program should do.</summary>
    /// <param name="environment">Reads an environment variable (the process's by default; tests pass their own).</param>
    public static CommandLineResult Parse(IReadOnlyList<string> args, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var syntax = GoFlagSyntax.Normalise(args, FlagDeclaration.All);
        if (syntax.HelpRequested) return new CommandLineResult { ExitCode = 0, Output = Usage };
        if (syntax.Error is not null) return Fail(syntax.Error);

        // Unset flags keep their property initialisers, which are the declared defaults.
        var flags = new ServerFlags();
        foreach (var (name, value) in syntax.Values!)
        {
            foreach (var flag in FlagDeclaration.All)
            {
                if (flag.Name == name) flag.Bind(flags, value);
            }
        }

        // Like -h: asked-for output on stdout, whatever else the line says.
        if (flags.Version) return new CommandLineResult { ExitCode = 0, Output = BuildVersion.Text + "\n" };
        flags.TlsEngineGiven = syntax.Values!.ContainsKey("tls-engine");
        return Validate(flags, environment);
    }

    private static CommandLineResult Validate(ServerFlags flags, Func<string, string?> environment)
    {
        ListenAddress? bind = null;
        string? error;
        if (flags.BindUnix)
        {
            if (!IsUnixSocketPath(flags.Bind, out error)) return InvalidValue("b", flags.Bind, error);
        }
        else if (!ListenAddress.TryParse(flags.Bind, out bind, out error)) return InvalidValue("b", flags.Bind, error);
        if (!ListenAddress.TryParse(flags.Controller, out var controller, out error)) return InvalidValue("c", flags.Controller, error);
        if (bind is not null && bind.Port != 0 && bind == controller) return Fail("-b and -c name the same address; the tunnel and the controller need one each");

        var sendProxy = flags.SendProxy switch
        {
            null or "" => ProxyHeaderVersion.None,
            "v1" => ProxyHeaderVersion.V1,
            "v2" => ProxyHeaderVersion.V2,
            _ => (ProxyHeaderVersion?)null,
        };
        if (sendProxy is null) return InvalidValue("send-proxy", flags.SendProxy!, "want v1 or v2 (the PROXY protocol version), or empty for no header");

        LogFormat? logFormat = flags.LogFormat switch
        {
            "text" => LogFormat.Text,
            "json" => LogFormat.Json,
            _ => null,
        };
        if (logFormat is null) return InvalidValue("log-format", flags.LogFormat, "want text or json");

        if (!GoDuration.TryParse(flags.Timeout, out var timeout))
            return InvalidValue("timeout", flags.Timeout, "not a Go duration such as 30s, 1m0s or 1h30m");
        if (timeout <= TimeSpan.Zero) return InvalidValue("timeout", flags.Timeout, "must be positive");

        if (!TryParseCount(flags.MaxConnections, out int maxConnections)) return InvalidValue("max-connections", flags.MaxConnections, "must be a whole number from 1 up");
        if (!TryParseCount(flags.MaxHandshakes, out int maxHandshakes)) return InvalidValue("max-handshakes", flags.MaxHandshakes, "must be a whole number from 1 up");
        if (!int.TryParse(flags.MaxPendingPerIp, NumberStyles.None, CultureInfo.InvariantCulture, out int maxPendingPerIp))
            return InvalidValue("max-pending-per-ip", flags.MaxPendingPerIp, "must be a whole number, 0 for no limit");

        if (!GoDuration.TryParse(flags.DrainTimeout, out var drainTimeout))
            return InvalidValue("drain-timeout", flags.DrainTimeout, "not a Go duration such as 10s, 500ms or 1m0s");
        if (drainTimeout < TimeSpan.Zero) return InvalidValue("drain-timeout", flags.DrainTimeout, "must not be negative");

        // An empty value is the same as no flag: nobody is trusted.
        TrustedProxies? trustedProxies = null;
        if (!string.IsNullOrWhiteSpace(flags.TrustedProxy) && !TrustedProxies.TryParse(flags.TrustedProxy, out trustedProxies, out error))
            return InvalidValue("trusted-proxy", flags.TrustedProxy, error);

        // The flag wins over the variable; an empty value of either means no token.
        bool tokenFromFlag = flags.ControllerToken is not null;
        string? controllerToken = flags.ControllerToken ?? environment(ServerOptions.ControllerTokenVariable);
        if (string.IsNullOrEmpty(controllerToken)) controllerToken = null;
        // The value itself stays out of the message: it is a secret and may be in a journal.
        if (controllerToken is not null && !ControllerToken.IsValid(controllerToken))
            return Fail($"{(tokenFromFlag ? "invalid value for flag -c-token" : $"invalid ${ServerOptions.ControllerTokenVariable}")}: a bearer token is 1 to {ControllerToken.MaxLength} of A-Z a-z 0-9 - . _ ~ + / followed by any '='");

        // As in the original, an empty path is the same as no flag.
        string? cert = string.IsNullOrEmpty(flags.Cert) ? null : flags.Cert;
        string? key = string.IsNullOrEmpty(flags.Key) ? null : flags.Key;
        if (cert is not null && key is null) return Fail("-cert given without -key: TLS needs both the certificate and its private key");
        if (key is not null && cert is null) return Fail("-key given without -cert: TLS needs both the certificate and its private key");

        if (flags.DisableTls && cert is not null) return Fail("-disable-tls contradicts -cert/-key");
        if (flags.DisableTls && flags.ForceTls) return Fail("-disable-tls contradicts -force-tls");

        TlsEngine? engine = flags.TlsEngine switch
        {
            "sslstream" => TlsEngine.SslStream,
            "openssl" => TlsEngine.OpenSsl,
            _ => null,
        };
        if (engine is null) return InvalidValue("tls-engine", flags.TlsEngine, "want sslstream or openssl");

        if (cert is null && flags.ForceTls && !SelfSignedCertificate.IsValidServerName(flags.ServerName))
            return InvalidValue("n", flags.ServerName, "the self-signed certificate needs a DNS name or an IP address");

        // The configuration stays out of the messages: it may hold a password.
        string? redis = string.IsNullOrEmpty(flags.Redis) ? null : flags.Redis;
        if (redis is not null && ClusterOptions.CheckConfiguration(redis) is { } redisError) return Fail($"invalid value for flag -redis: {redisError}");
        if (ClusterOptions.CheckPrefix(flags.RedisPrefix) is { } prefixError) return InvalidValue("redis-prefix", flags.RedisPrefix, prefixError);

        return new CommandLineResult
        {
            Options = new ServerOptions
            {
                Tunnel = new TunnelServerOptions
                {
                    Bind = bind?.ToEndPoint() ?? new UnixDomainSocketEndPoint(flags.Bind),
                    MuxByDefault = flags.Mux,
                    IdleTimeout = timeout,
                    FastOpen = flags.FastOpen,
                    SendProxy = sendProxy.Value,
                    RequireProxyHeader = flags.ProxyProtocol,
                    TrustedProxies = trustedProxies,
                    MaxConnections = maxConnections,
                    MaxHandshakes = maxHandshakes,
                    TlsEngine = engine.Value,
                    MaxPendingPerAddress = maxPendingPerIp,
                },
                Controller = new ControllerServerOptions
                {
                    Bind = controller.ToEndPoint(),
                    Token = controllerToken is null ? null : new ControllerToken(controllerToken),
                },
                BindText = flags.Bind,
                ControllerText = flags.Controller,
                CertPath = cert,
                TlsEngineGiven = flags.TlsEngineGiven,
                KeyPath = key,
                ForceTls = flags.ForceTls,
                ServerName = flags.ServerName,
                Verbose = flags.Verbose,
                DrainTimeout = drainTimeout,
                StatePath = string.IsNullOrEmpty(flags.State) ? null : flags.State,
                MetricsPerUser = flags.MetricsPerUser,
                Redis = redis,
                RedisPrefix = flags.RedisPrefix,
                LogFormat = logFormat.Value,
            },
        };
    }

    // A path with a '/', so that the default host:port (or a forgotten -b) never becomes a socket file in the
    // working directory; at most what sockaddr_un holds (108 bytes with the terminating NUL).
    private static bool IsUnixSocketPath(string path, [NotNullWhen(false)] out string? error)
    {
        error = null;
        if (!path.Contains('/')) error = "with -bind-unix, -b is the socket's path and needs a '/', e.g. /run/mtt-mu-server/tunnel.sock or ./tunnel.sock";
        else if (path.EndsWith('/')) error = "with -bind-unix, -b names the socket file, not a directory";
        else if (path.Contains('\0')) error = "a path has no NUL character";
        else if (Encoding.UTF8.GetByteCount(path) > MaxUnixSocketPathBytes) error = $"a Unix socket path is at most {MaxUnixSocketPathBytes} bytes";
        return error is null;
    }

    // sizeof(sockaddr_un.sun_path) on Linux, less its terminating NUL.
    private const int MaxUnixSocketPathBytes = 107;

    private static bool TryParseCount(string text, out int count) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out count) && count >= 1;

    private static CommandLineResult InvalidValue(string flag, string value, string reason)
        => Fail($"invalid value {MessageText.Quote(value)} for flag -{flag}: {MessageText.Escape(reason)}");

    private static CommandLineResult Fail(string message)
        => new() { ExitCode = CommandLineResult.UsageErrorExitCode, Error = message + "\n" + Usage };
}
