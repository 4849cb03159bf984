using System.Globalization;

namespace Mtt.Benchmarks.Load;

/// <summary>The command line of `load &lt;scenario&gt; [options]`.</summary>
internal sealed class LoadOptions
{
    public const string Usage = """
        usage: dotnet run -c Release --project Mtt.Benchmarks -- load <scenario> [options]

        scenarios:
          bulk    echo --bytes through --tunnels tunnels of the real server (TLS unless --plain)
          idle    open --connections idle TLS tunnels (plain with --plain); server memory and descriptors per connection;
                  exits 1 if the server holds more descriptors after closing than before (+ a small slack)
          floor   bulk through the server and through bare/TLS TCP relays (separate processes); CPU ratios
          churn   connections opened, echoed through once (--message bytes) and closed, by --concurrency workers,
                  against the server and the TLS relay floor in turns; connections/s, server CPU per 1,000, RSS
          attack  fresh clients' handshake times (connect to 101, one after another for --duration, default 15s, or
                  --connections of them) with no attack and while --silent silent and --dripping dripping connections
                  flood the server, in turns; p50/p99 and ratios
          latency round-trip times of --message bytes, one in flight per connection, through a TLS tunnel,
                  the TLS relay floor and a TLS smux stream in turns; p50/p90/p99/p99.9/max and their ratios
          soak    --duration (default 20m) of hostile TLS clients (--concurrency workers: broken records at every
                  handshake stage, resets, oversize records, s_client renegotiation and KeyUpdate storms, data after
                  close_notify, half-closes) while valid tunnels and smux sessions echo byte-exact; exits 1 if the
                  server dies, logs WARN/ERROR, keeps descriptors, or a valid client fails

        options:
          --server path          mtt-mu-server.dll (run with dotnet) or an executable; default: this solution's Release build
          --tunnels n            concurrent tunnels in bulk/floor (default 1)
          --bytes size           total bytes echoed per measurement (default 1GiB; suffixes K, M, G, KiB, MiB, GiB)
          --chunk size           bytes per send, one WebSocket message each (default 64KiB)
          --warmup-bytes size    echoed through each process before measuring, for the JIT: in two passes, each after 128
                                 connections opened and closed, through as many channels as measured (default 128MiB;
                                 0 for none; 2GiB leaves nothing to compile during a 16-tunnel measurement); then
                                 every process is left to go quiet
          --repeat n             measurements per target, interleaved; medians reported (default 1)
          --smux                 bulk/idle/floor/churn: smux_on sessions (docs/protocol.md §4) instead of smux_off tunnels; each --tunnels is one session
                                 (latency always runs a tunnel, the floor and a smux stream)
          --streams n            smux: streams per session, each echoing its share of --bytes (default 1, at most 16); idle: always 1
          --smux-version 1|2     smux (and latency's smux stream): protocol version (default 1, as mtt-client; 2 adds per-stream windows)
          --plain                bulk/idle/churn/latency over plain HTTP (and a bare relay floor) instead of TLS; floor: both are always run
          --tls-only             floor: skip the plain pair
          --connections n        idle: tunnels to open (default 1000); churn: connections per measurement (default 20000
                                 unless --duration); latency: connections open at once, one message in flight each (default 16)
          --duration d           churn: measure for d (e.g. 20s, 500ms, 2m) instead of a count of connections
          --concurrency n        churn: workers opening connections at once (default 32)
          --warmup-connections n churn: connections through each process once before measuring, for the JIT (default 4000);
                                 idle: served one at a time before "before" is read (default 200; 1: the one tunnel of earlier figures)
          --message size         churn/latency: bytes echoed per message (default 64)
          --round-trips n        latency: round trips per connection per measurement (default 5000)
          --rate r               latency: round trips per second in all, spread over the connections (default: back to back)
          --silent n             attack: flood connections that send nothing (default 5000)
          --dripping n           attack: flood connections that drip a never-ending ClientHello (plain: head), a byte a second (default 1000)
          --per-address n        attack: flood connections per source address, 127.1.x.y (default 40, under the server's -max-pending-per-ip)
          --anchor               bulk/floor/churn: also run the Go anchor (crypto/tls + gorilla/websocket + xtaci/smux, the original
                                 server's stack, built from Debian's Go packages) and, for floor/churn, its crypto/tls relay, in the same
                                 turns; every tunnel and relay is reported as a ratio to the Go target of its kind
          --no-floor             churn: the server alone, without the relay floor
          --cycles n             idle: open and close them n times, to tell reused memory from a leak (default 1)
          --hold d               idle: keep them open d after measuring, to look inside the server (dotnet-gcdump, smaps)
          --hold-closed d        idle: keep the server running d after each cycle's figure after closing, to look inside it
          --smaps dir            idle: copy the server's /proc/<pid>/smaps into dir as each RSS figure is read (before, open-N, after-N)
          --stall-in-record      idle: each TLS tunnel, after its 101, sends 6 bytes of a record (a header and one byte) and nothing
                                 more; closed by a TCP FIN. What a client stalled inside a record costs the server
          --verify mode          compare (default: each byte against what was sent at that position) or sha256
          --server-timeout d     the server's -timeout (default 10m0s, longer than any measurement)
          --verbose-server       pass -verbose to the server
          --server-env K=V       an environment variable for the server process (repeatable), e.g. DOTNET_GCgen0size=0x400000
          --server-arg flag      a flag for the server process (repeatable), e.g. --server-arg -timeout=1m0s
          --tls-engine e         sslstream (default) or openssl: the server's -tls-engine, and the TLS relay floor on the same engine
          --json                 write the results as JSON on stdout instead of the table (progress stays on stderr)
        """;

    // The server's limit of live streams per session (docs/protocol.md §4.2); a SYN beyond it is refused.
    private const int MaxStreamsPerSession = 16;

    // Defaults of --connections that differ by scenario: churn counts connections made, latency connections held.
    private const int DefaultChurnConnections = 20000;
    private const int DefaultLatencyConnections = 16;
    // Longer than the server's 10 s handshake timeout, so that its drops and the attacker's reconnects are measured too.
    private static readonly TimeSpan DefaultAttackDuration = TimeSpan.FromSeconds(15);
    private const int DefaultAttackWarmupConnections = 50;
    // The per-connection path at its final tier (30 calls at tier 0, 30 instrumented) before "before", as in service.
    private const int DefaultIdleWarmupConnections = 200;

    // A latency message is one WebSocket frame and one smux frame echoed whole: at most a 16 KiB smux frame's data.
    private const int MaxMessageSize = 16 * 1024;

    // Every latency sample is kept (8 bytes each) to read exact percentiles: bounds the harness's memory.
    private const long MaxLatencySamples = 20_000_000;

    public required string Scenario { get; init; }

    public string ServerPath { get; private set; } = "";

    public int Tunnels { get; private set; } = 1;

    public long Bytes { get; private set; } = 1L << 30;

    public int ChunkSize { get; private set; } = 64 * 1024;

    public long WarmupBytes { get; private set; } = 128L << 20;

    public int Repeat { get; private set; } = 1;

    public bool Plain { get; private set; }

    public bool Smux { get; private set; }

    public int Streams { get; private set; } = 1;

    public byte SmuxVersion { get; private set; } = 1;

    public bool TlsOnly { get; private set; }

    public int Connections { get; private set; } = 1000;

    public int Cycles { get; private set; } = 1;

    /// <summary>idle: how long to keep every connection open after measuring, for a look inside the server.</summary>
    public TimeSpan? Hold { get; private set; }

    /// <summary>idle: how long to keep the server running after each cycle's figure after closing, for a look inside it.</summary>
    public TimeSpan? HoldClosed { get; private set; }

    /// <summary>idle: where to copy the server's /proc/&lt;pid&gt;/smaps at each figure, to see which mappings hold what.</summary>
    public string? SmapsDirectory { get; private set; }

    /// <summary>idle: each tunnel stops inside a TLS record after its upgrade.</summary>
    public bool StallInRecord { get; private set; }

    public VerifyMode Verify { get; private set; } = VerifyMode.Compare;

    public string ServerTimeout { get; private set; } = "10m0s";

    public bool VerboseServer { get; private set; }

    public Dictionary<string, string> ServerEnvironment { get; } = [];

    /// <summary>--server-arg: flags appended to the server's command line (e.g. -tls-engine=openssl).</summary>
    public List<string> ServerArguments { get; } = [];

    /// <summary>--tls-engine: the server's TLS engine, and the engine of the TLS relay floor beside it (its churn floor).</summary>
    public Mtt.Core.Transport.TlsEngine TlsEngine { get; private set; } = Mtt.Core.Transport.TlsEngine.SslStream;

    public bool Json { get; private set; }

    /// <summary>churn: how long each measurement runs; null when it counts <see cref="Connections"/> instead.</summary>
    public TimeSpan? Duration { get; private set; }

    public int Concurrency { get; private set; } = 32;

    // 4,000: with 500, a fifth of the server's CPU in the measured churn was still the tiered JIT (docs/benchmarks.md,
    // "Handshakes: where the server's CPU goes"); with 4,000 it is 2 %.
    public int WarmupConnections { get; private set; } = 4000;

    public int MessageSize { get; private set; } = 64;

    public int RoundTrips { get; private set; } = 5000;

    /// <summary>latency: round trips per second over all connections; null for back to back.</summary>
    public double? Rate { get; private set; }

    public bool NoFloor { get; private set; }

    /// <summary>Run the Go anchor (and its relay, beside a floor) in the same turns; ratios to it.</summary>
    public bool Anchor { get; private set; }

    public int SilentConnections { get; private set; } = 5000;

    public int DrippingConnections { get; private set; } = 1000;

    public int PerAddress { get; private set; } = 40;

    /// <summary>Parses the arguments after `load &lt;scenario&gt;`; throws <see cref="ArgumentException"/> with the reason.</summary>
    public static LoadOptions Parse(string scenario, string[] args)
    {
        var options = new LoadOptions { Scenario = scenario };
        bool connectionsGiven = false;
        bool warmupGiven = false;
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value");
            switch (name)
            {
                case "--server": options.ServerPath = Value(); break;
                case "--tunnels": options.Tunnels = PositiveInt(name, Value()); break;
                case "--bytes": options.Bytes = ParseSize(Value()); break;
                case "--chunk": options.ChunkSize = (int)ParseSize(Value()); break;
                case "--warmup-bytes": options.WarmupBytes = ParseSize(Value()); break;
                case "--repeat": options.Repeat = PositiveInt(name, Value()); break;
                case "--plain": options.Plain = true; break;
                case "--smux": options.Smux = true; break;
                case "--streams": options.Streams = PositiveInt(name, Value()); break;
                case "--smux-version":
                    options.SmuxVersion = Value() switch
                    {
                        "1" => 1,
                        "2" => 2,
                        string v => throw new ArgumentException($"--smux-version is 1 or 2, not {v}"),
                    };
                    break;
                case "--tls-only": options.TlsOnly = true; break;
                case "--connections":
                    options.Connections = PositiveInt(name, Value());
                    connectionsGiven = true;
                    break;
                case "--duration": options.Duration = ParseDuration(Value()); break;
                case "--concurrency": options.Concurrency = PositiveInt(name, Value()); break;
                case "--warmup-connections":
                    options.WarmupConnections = NonNegativeInt(name, Value());
                    warmupGiven = true;
                    break;
                case "--silent": options.SilentConnections = NonNegativeInt(name, Value()); break;
                case "--dripping": options.DrippingConnections = NonNegativeInt(name, Value()); break;
                case "--per-address": options.PerAddress = PositiveInt(name, Value()); break;
                case "--message": options.MessageSize = (int)ParseSize(Value()); break;
                case "--round-trips": options.RoundTrips = PositiveInt(name, Value()); break;
                case "--rate":
                    string rate = Value();
                    options.Rate = double.TryParse(rate, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) && r > 0 ? r : throw new ArgumentException($"--rate needs a positive number, not {rate}");
                    break;
                case "--no-floor": options.NoFloor = true; break;
                case "--anchor": options.Anchor = true; break;
                case "--cycles": options.Cycles = PositiveInt(name, Value()); break;
                case "--hold": options.Hold = ParseDuration(Value()); break;
                case "--hold-closed": options.HoldClosed = ParseDuration(Value()); break;
                case "--smaps": options.SmapsDirectory = Value(); break;
                case "--stall-in-record": options.StallInRecord = true; break;
                case "--verify": options.Verify = Enum.Parse<VerifyMode>(Value(), ignoreCase: true); break;
                case "--server-timeout": options.ServerTimeout = Value(); break;
                case "--verbose-server": options.VerboseServer = true; break;
                case "--server-env":
                    string pair = Value();
                    int equals = pair.IndexOf('=');
                    if (equals <= 0) throw new ArgumentException($"--server-env needs NAME=VALUE, not {pair}");
                    options.ServerEnvironment[pair[..equals]] = pair[(equals + 1)..];
                    break;
                case "--server-arg": options.ServerArguments.Add(Value()); break;
                case "--tls-engine":
                    string engine = Value();
                    options.TlsEngine = engine switch
                    {
                        "sslstream" => Mtt.Core.Transport.TlsEngine.SslStream,
                        "openssl" => Mtt.Core.Transport.TlsEngine.OpenSsl,
                        _ => throw new ArgumentException($"--tls-engine is sslstream or openssl, not {engine}"),
                    };
                    options.ServerArguments.Add($"-tls-engine={engine}");
                    break;
                case "--json": options.Json = true; break;
                default: throw new ArgumentException($"unknown option {name}");
            }
        }
        if (options.ChunkSize <= 0) throw new ArgumentException("--chunk must be positive");
        if (options.Streams > MaxStreamsPerSession) throw new ArgumentException($"--streams: the server refuses more than {MaxStreamsPerSession} streams per session");
        if ((options.Streams > 1 || options.SmuxVersion != 1) && !options.Smux && scenario != "latency") throw new ArgumentException("--streams and --smux-version need --smux");
        if (options.Bytes < (long)options.Tunnels * options.Streams) throw new ArgumentException("--bytes must be at least one byte per tunnel and stream");
        if (options.MessageSize is <= 0 or > MaxMessageSize) throw new ArgumentException($"--message must be 1 to {MaxMessageSize} bytes");
        if (!connectionsGiven && scenario == "churn") options.Connections = DefaultChurnConnections;
        if (!connectionsGiven && scenario == "latency") options.Connections = DefaultLatencyConnections;
        if (!connectionsGiven && scenario == "attack") options.Duration ??= DefaultAttackDuration;
        if (!warmupGiven && scenario == "attack") options.WarmupConnections = DefaultAttackWarmupConnections;
        if (!warmupGiven && scenario == "idle") options.WarmupConnections = DefaultIdleWarmupConnections;
        if (options.WarmupConnections == 0 && scenario == "idle") throw new ArgumentException("--warmup-connections: idle needs at least 1");
        if (connectionsGiven && options.Duration is not null) throw new ArgumentException("--connections and --duration: give one");
        if ((long)options.Connections * options.RoundTrips * options.Repeat > MaxLatencySamples && scenario == "latency")
            throw new ArgumentException($"--connections × --round-trips × --repeat is above the {MaxLatencySamples:N0} samples the harness keeps");
        if (options.Anchor && scenario is not ("bulk" or "floor" or "churn")) throw new ArgumentException("--anchor is for bulk, floor and churn");
        if (options.StallInRecord && (scenario != "idle" || options.Plain || options.Smux)) throw new ArgumentException("--stall-in-record is for idle TLS tunnels (no --plain, no --smux)");
        if (options.Smux && scenario == "latency") throw new ArgumentException("latency always measures a smux stream next to the tunnel; drop --smux");
        if (options.ServerPath.Length == 0) options.ServerPath = ServerLocator.FindDaemon();
        return options;
    }

    /// <summary>"1GiB", "512M", "65536": binary multiples, as the sizes of buffers and files are.</summary>
    public static long ParseSize(string text)
    {
        string t = text.Trim();
        long multiplier = 1;
        string[] suffixes = ["KiB", "MiB", "GiB", "K", "M", "G", "KB", "MB", "GB"];
        long[] multipliers = [1L << 10, 1L << 20, 1L << 30, 1L << 10, 1L << 20, 1L << 30, 1L << 10, 1L << 20, 1L << 30];
        for (int i = 0; i < suffixes.Length; i++)
        {
            if (!t.EndsWith(suffixes[i], StringComparison.OrdinalIgnoreCase)) continue;
            multiplier = multipliers[i];
            t = t[..^suffixes[i].Length];
            break;
        }
        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value < 0)
            throw new ArgumentException($"not a size: {text}");
        return (long)(value * multiplier);
    }

    /// <summary>"20s", "500ms", "2m", or a bare number of seconds.</summary>
    public static TimeSpan ParseDuration(string text)
    {
        string t = text.Trim();
        double scale = 1;
        if (t.EndsWith("ms", StringComparison.OrdinalIgnoreCase)) (t, scale) = (t[..^2], 0.001);
        else if (t.EndsWith('s')) t = t[..^1];
        else if (t.EndsWith('m')) (t, scale) = (t[..^1], 60);
        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value <= 0)
            throw new ArgumentException($"not a duration: {text}");
        return TimeSpan.FromSeconds(value * scale);
    }

    private static int NonNegativeInt(string name, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 0 ? n : throw new ArgumentException($"{name} needs a whole number, not {value}");

    private static int PositiveInt(string name, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new ArgumentException($"{name} needs a positive integer, not {value}");
}
