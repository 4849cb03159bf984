using System.Net;
using Mtt.Core.Control.Http;
using Mtt.Daemon;

namespace Mtt.Tests.CommandLine;

public sealed class CommandLineTests
{
    private static readonly string[] AllFlags =
        ["b", "bind-unix", "c", "c-token", "cert", "disable-tls", "drain-timeout", "fast-open", "force-tls", "key", "metrics-per-user", "mux", "n", "send-proxy", "state", "timeout", "tls-engine", "verbose"];

    private static CommandLineResult Parse(params string[] args) => Mtt.Daemon.CommandLine.Parse(args);

    private static ServerOptions Parsed(params string[] args)
    {
        var result = Parse(args);
        Assert.True(result.Options is not null, result.Error);
        Assert.Equal(0, result.ExitCode);
        Assert.Null(result.Error);
        Assert.Null(result.Output);
        return result.Options;
    }

    /// <summary>Exit 2, a first line that says what is wrong, then the usage text.</summary>
    private static string Refused(params string[] args)
    {
        var result = Parse(args);
        Assert.Null(result.Options);
        Assert.Equal(2, result.ExitCode);
        Assert.NotNull(result.Error);
        Assert.Null(result.Output);
        int newline = result.Error.IndexOf('\n');
        Assert.True(newline > 0, result.Error);
        Assert.Equal(Mtt.Daemon.CommandLine.Usage, result.Error[(newline + 1)..]);
        return result.Error[..newline];
    }

    [Fact]
    public void NoArguments_GivesTheDefaults()
    {
        var options = Parsed();

        Assert.Equal("127.0.0.1:8443", options.BindText);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 8443), options.Tunnel.Bind);
        Assert.Equal("127.0.0.1:8080", options.ControllerText);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 8080), options.Controller.Bind);
        Assert.Null(options.Controller.Token);
        Assert.False(options.Tunnel.MuxByDefault);
        Assert.Null(options.CertPath);
        Assert.Null(options.KeyPath);
        Assert.False(options.ForceTls);
        Assert.False(options.UseTls);
        Assert.False(options.UseSelfSignedCertificate);
        Assert.Equal(TimeSpan.FromMinutes(1), options.Tunnel.IdleTimeout);
        Assert.False(options.Verbose);
        Assert.False(options.Tunnel.FastOpen);
        Assert.Equal("localhost", options.ServerName);
    }

    [Fact]
    public void HostNames_StayNames_UntilTheStart_AndAddressesAreEndPointsAlready()
    {
        var options = Parsed("-b", "tunnel.example:443", "-c", "[::1]:0");

        Assert.Equal(new DnsEndPoint("tunnel.example", 443), options.Tunnel.Bind);
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 0), options.Controller.Bind);
    }

    [Theory]
    [InlineData("-b", "0.0.0.0:443")]
    [InlineData("-b=0.0.0.0:443")]
    [InlineData("--b", "0.0.0.0:443")]
    [InlineData("--b=0.0.0.0:443")]
    public void ValueFlag_InEveryGoForm(params string[] args)
    {
        Assert.Equal("0.0.0.0:443", Parsed(args).BindText);
    }

    [Fact]
    public void EveryFlag_Together()
    {
        var options = Parsed("-b", ":443", "--c=127.0.0.1:9090", "-mux", "--cert", "/etc/mtt/cert.pem", "-key=/etc/mtt/key.pem",
            "-timeout", "5m30s", "-verbose=true", "-n", "tunnel.example.com", "-fast-open", "-force-tls");

        Assert.Equal(":443", options.BindText);
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Any, 443), options.Tunnel.Bind);
        Assert.Equal("127.0.0.1:9090", options.ControllerText);
        Assert.True(options.Tunnel.MuxByDefault);
        Assert.Equal("/etc/mtt/cert.pem", options.CertPath);
        Assert.Equal("/etc/mtt/key.pem", options.KeyPath);
        Assert.Equal(TimeSpan.FromSeconds(330), options.Tunnel.IdleTimeout);
        Assert.True(options.Verbose);
        Assert.Equal("tunnel.example.com", options.ServerName);
        Assert.True(options.Tunnel.FastOpen);
        Assert.True(options.ForceTls);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true, "-mux")]
    [InlineData(true, "--mux")]
    [InlineData(true, "-mux=true")]
    [InlineData(true, "--mux=true")]
    [InlineData(false, "-mux=false")]
    [InlineData(false, "--mux=false")]
    [InlineData(true, "-mux=1")]
    [InlineData(true, "-mux=t")]
    [InlineData(true, "-mux=TRUE")]
    [InlineData(true, "-mux=True")]
    [InlineData(false, "-mux=0")]
    [InlineData(false, "-mux=F")]
    [InlineData(false, "-mux=FALSE")]
    [InlineData(false, "-mux", "-mux=false")] // the last occurrence wins, as in Go
    [InlineData(true, "-mux=false", "-mux")]
    public void BoolFlag_InEveryGoForm(bool expected, params string[] args)
    {
        Assert.Equal(expected, Parsed(args).Tunnel.MuxByDefault);
    }

    [Fact]
    public void BoolFlag_NeverTakesTheNextArgument()
    {
        // Go reads "-mux false" as -mux and then a positional "false", which this server does not take.
        string message = Refused("-mux", "false");

        Assert.Contains("\"false\"", message);
    }

    [Theory]
    [InlineData("-mux=yes", "-mux")]
    [InlineData("-mux=", "-mux")]
    [InlineData("--verbose=on", "-verbose")]
    public void BoolFlag_WithABadValue_IsRefusedNamingIt(string arg, string flag)
    {
        string message = Refused(arg);

        Assert.Contains(flag, message);
        Assert.StartsWith("invalid boolean value", message);
    }

    [Fact]
    public void ValueFlag_TakesTheNextArgumentEvenIfItLooksLikeAFlag()
    {
        var options = Parsed("-cert", "-odd.pem", "-key", "--odd-key.pem");

        Assert.Equal("-odd.pem", options.CertPath);
        Assert.Equal("--odd-key.pem", options.KeyPath);
    }

    [Fact]
    public void ValueWithEquals_KeepsEverythingAfterTheFirst()
    {
        var options = Parsed("-cert=/srv/a=b.pem", "--key==k.pem");

        Assert.Equal("/srv/a=b.pem", options.CertPath);
        Assert.Equal("=k.pem", options.KeyPath);
    }

    [Theory]
    [InlineData("-")]
    [InlineData("--")]
    [InlineData("-x")]
    [InlineData("--x")]
    [InlineData("--mux")]
    [InlineData(" spaced name.pem ")]
    [InlineData("=x")]
    [InlineData("line\nbreak")]
    [InlineData("µ")]
    public void OddValues_ReachTheOptionsUnchanged(string value)
    {
        var separate = Parsed("-cert", value, "-key", value, "-n", value);
        var joined = Parsed($"-cert={value}", $"--key={value}", $"-n={value}");

        Assert.Equal(value, separate.CertPath);
        Assert.Equal(value, separate.KeyPath);
        Assert.Equal(value, separate.ServerName);
        Assert.Equal(value, joined.CertPath);
        Assert.Equal(value, joined.KeyPath);
        Assert.Equal(value, joined.ServerName);
    }

    [Fact]
    public void EmptyServerName_ReachesTheOptions()
    {
        Assert.Equal("", Parsed("-n", "").ServerName);
    }

    [Fact]
    public void DashValueWithALineBreak_ReachesTheOptions()
    {
        Assert.Equal("-x\ny", Parsed("-cert", "-x\ny", "-key", "k.pem").CertPath);
    }

    [Theory]
    [InlineData("-a\nb")]
    [InlineData("-b", "a\nb:80")]
    [InlineData("-b", ":8\t0")]
    [InlineData("-mux=\r")]
    [InlineData("line\nbreak")]
    public void Messages_StayOnOneLine(params string[] args)
    {
        // Refused() splits the message from the usage at the first line break.
        Assert.DoesNotContain('\t', Refused(args));
    }

    [Fact]
    public void RepeatedValueFlag_LastWins()
    {
        Assert.Equal("127.0.0.2:2", Parsed("-b", "127.0.0.1:1", "-b=127.0.0.2:2").BindText);
    }

    [Theory]
    [InlineData("-foo")]
    [InlineData("--foo")]
    [InlineData("-foo=1")]
    [InlineData("-MUX")]        // names are case-sensitive, as in Go
    [InlineData("-B", "x")]
    public void UnknownFlag_IsRefusedNamingIt(params string[] args)
    {
        string name = args[0].TrimStart('-').Split('=')[0];

        Assert.Equal($"flag provided but not defined: -{name}", Refused(args));
    }

    [Fact]
    public void UnknownFlag_AfterGoodOnes_IsStillRefused()
    {
        Assert.Equal("flag provided but not defined: -nope", Refused("-mux", "-b", "0.0.0.0:1", "-nope"));
    }

    [Theory]
    [InlineData("-b")]
    [InlineData("--c")]
    [InlineData("-timeout")]
    [InlineData("-cert")]
    [InlineData("-n")]
    public void ValueFlag_AtTheEnd_NeedsAnArgument(string flag)
    {
        Assert.Equal($"flag needs an argument: -{flag.TrimStart('-')}", Refused("-mux", flag));
    }

    [Theory]
    [InlineData("---b")]
    [InlineData("-=x")]
    [InlineData("--=x")]
    public void BadFlagSyntax_IsRefused(string arg)
    {
        Assert.Equal($"bad flag syntax: {arg}", Refused(arg));
    }

    [Theory]
    [InlineData("extra")]
    [InlineData("-mux", "extra")]
    [InlineData("-")]
    [InlineData("--", "-mux")]
    [InlineData("-b", "0.0.0.0:443", "--", "x")]
    public void PositionalArgument_IsRefused(params string[] args)
    {
        Assert.StartsWith("unexpected argument", Refused(args));
    }

    [Fact]
    public void DoubleDash_EndsTheFlags()
    {
        Assert.True(Parsed("-mux", "--").Tunnel.MuxByDefault);
    }

    [Theory]
    [InlineData("-h")]
    [InlineData("-help")]
    [InlineData("--help")]
    [InlineData("--h")]
    [InlineData("-h=1")]
    [InlineData("-mux", "-h", "-unknown")] // Go stops at the help request
    public void Help_PrintsUsageAndExitsZero(params string[] args)
    {
        var result = Parse(args);

        Assert.Equal(0, result.ExitCode);
        Assert.Null(result.Options);
        Assert.Null(result.Error);
        Assert.Equal(Mtt.Daemon.CommandLine.Usage, result.Output);
    }

    [Fact]
    public void Help_AfterAnUnknownFlag_IsTheError()
    {
        Assert.Equal("flag provided but not defined: -unknown", Refused("-unknown", "-h"));
    }

    [Fact]
    public void Usage_ListsEveryFlagWithItsDefaultInGoLayout()
    {
        string usage = Mtt.Daemon.CommandLine.Usage;

        Assert.StartsWith("Usage of mtt-mu-server:\n", usage);
        foreach (string flag in AllFlags) Assert.Contains($"\n  -{flag}", usage);
        Assert.Contains("\n  -b string\n    \t", usage);
        Assert.Contains("(default \"127.0.0.1:8443\")\n", usage);
        Assert.Contains("(default \"127.0.0.1:8080\")\n", usage);
        Assert.Contains("(default \"localhost\")\n", usage);
        Assert.Contains("\n  -timeout duration\n    \t", usage);
        Assert.Contains("(default 1m0s)\n", usage);
        Assert.Contains("\n  -mux\n    \t", usage);
        Assert.Contains("\n  -cert string\n    \t", usage);
        Assert.DoesNotContain("-mux bool", usage);

        // Sorted by name, as Go's PrintDefaults lists them.
        int previous = -1;
        foreach (string flag in AllFlags)
        {
            int at = usage.IndexOf($"\n  -{flag}", StringComparison.Ordinal);
            Assert.True(at > previous, $"-{flag} is out of order");
            previous = at;
        }
    }

    [Theory]
    [InlineData("30s", 30_000)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("1h2m3s", 3_723_000)]
    [InlineData("300ms", 300)]
    public void Timeout_TakesGoDurations(string text, int milliseconds)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), Parsed("-timeout", text).Tunnel.IdleTimeout);
    }

    [Theory]
    [InlineData("10", "not a Go duration")]
    [InlineData("1d", "not a Go duration")]
    [InlineData("abc", "not a Go duration")]
    [InlineData("0", "must be positive")]
    [InlineData("0s", "must be positive")]
    [InlineData("-1s", "must be positive")]
    [InlineData("50ns", "must be positive")] // below TimeSpan's 100 ns tick
    public void Timeout_BadOrNotPositive_IsRefusedNamingIt(string text, string reason)
    {
        string message = Refused("-timeout", text);

        Assert.StartsWith($"invalid value \"{text}\" for flag -timeout: ", message);
        Assert.Contains(reason, message);
    }

    [Theory]
    [InlineData("-b", "8443")]
    [InlineData("-b", "0.0.0.0:99999")]
    [InlineData("-b", "::1:443")]
    [InlineData("-b", "")]
    [InlineData("-c", "localhost")]
    [InlineData("-c", "host:http")]
    public void BadAddress_IsRefusedNamingTheFlag(string flag, string value)
    {
        Assert.StartsWith($"invalid value \"{value}\" for flag {flag}: ", Refused(flag, value));
    }

    [Theory]
    [InlineData("0.0.0.0:443")]
    [InlineData("[::]:443")]
    [InlineData("localhost:8443")]
    [InlineData(":8443")]
    [InlineData("127.0.0.1:0")]
    public void ListenAddresses_ThatGoTakes_AreAccepted(string value)
    {
        Assert.Equal(value, Parsed("-b", value).BindText);
    }

    [Fact]
    public void SameAddressForTunnelAndController_IsRefused()
    {
        Assert.StartsWith("-b and -c", Refused("-b", "127.0.0.1:8080"));
    }

    [Fact]
    public void CertWithoutKey_IsRefusedNamingTheMissingKey()
    {
        Assert.StartsWith("-cert given without -key", Refused("-cert", "/etc/mtt/cert.pem"));
    }

    [Fact]
    public void KeyWithoutCert_IsRefusedNamingTheMissingCert()
    {
        Assert.StartsWith("-key given without -cert", Refused("-key", "/etc/mtt/key.pem"));
    }

    [Fact]
    public void CertAndKey_TurnTlsOnWithThoseFiles()
    {
        var options = Parsed("-cert", "c.pem", "-key", "k.pem");

        Assert.True(options.UseTls);
        Assert.False(options.UseSelfSignedCertificate);
    }

    [Fact]
    public void EmptyCertAndKey_AreTheSameAsNone()
    {
        var options = Parsed("-cert=", "-key", "");

        Assert.Null(options.CertPath);
        Assert.Null(options.KeyPath);
        Assert.False(options.UseTls);
    }

    [Fact]
    public void ForceTls_Alone_UsesASelfSignedCertificate()
    {
        var options = Parsed("-force-tls", "-n", "tunnel.example.com");

        Assert.True(options.UseTls);
        Assert.True(options.UseSelfSignedCertificate);
    }

    [Fact]
    public void ForceTls_WithCertAndKey_TheFilesWin()
    {
        var options = Parsed("-force-tls", "-cert", "c.pem", "-key", "k.pem");

        Assert.True(options.UseTls);
        Assert.False(options.UseSelfSignedCertificate);
        Assert.Equal("c.pem", options.CertPath);
    }

    [Theory]
    [InlineData("not a name")]
    [InlineData("")]
    [InlineData("example.com:443")]
    public void ForceTls_WithANameACertificateCannotCarry_IsRefused(string name)
    {
        Assert.StartsWith($"invalid value \"{name}\" for flag -n: ", Refused("-force-tls", "-n", name));
    }

    [Fact]
    public void ServerName_IsNotCheckedWhenNoCertificateIsMade()
    {
        Assert.Equal("not a name", Parsed("-n", "not a name").ServerName);
    }

    [Fact]
    public void DisableTls_FromTheOriginal_IsAcceptedAndKeepsPlainHttp()
    {
        Assert.False(Parsed("-disable-tls").UseTls);
    }

    [Theory]
    [InlineData("-disable-tls", "-force-tls")]
    [InlineData("-disable-tls", "-cert", "c.pem", "-key", "k.pem")]
    public void DisableTls_WithTls_IsRefused(params string[] args)
    {
        Assert.StartsWith("-disable-tls contradicts", Refused(args));
    }

    [Fact]
    public void StateAndMetricsPerUser_AreOff_ByDefault()
    {
        var options = Parsed();
        Assert.Null(options.StatePath);
        Assert.False(options.MetricsPerUser);
    }

    [Theory]
    [InlineData("-state", "/var/lib/mtt/users.json")]
    [InlineData("--state=/var/lib/mtt/users.json")]
    [InlineData("-state=/var/lib/mtt/users.json", "-metrics-per-user=false")]
    public void State_TakesAPath_InEveryGoForm(params string[] args)
    {
        var options = Parsed(args);
        Assert.Equal("/var/lib/mtt/users.json", options.StatePath);
        Assert.False(options.MetricsPerUser);
    }

    [Fact]
    public void MetricsPerUser_IsABoolean()
    {
        Assert.True(Parsed("-metrics-per-user").MetricsPerUser);
        Assert.True(Parsed("--metrics-per-user=true").MetricsPerUser);
        Assert.Equal("flag needs an argument: -state", Refused("-state"));
    }

    [Fact]
    public void Usage_DescribesStateAndMetricsPerUser()
    {
        string usage = Mtt.Daemon.CommandLine.Usage;
        Assert.Contains("\n  -state string\n", usage);
        Assert.Contains("saved after every change", usage);
        Assert.Contains("\n  -metrics-per-user\n", usage);
    }

    [Fact]
    public void DrainTimeout_DefaultsTo10s_AndTakesGoDurations()
    {
        Assert.Equal(TimeSpan.FromSeconds(10), Parsed().DrainTimeout);
        Assert.Equal(TimeSpan.FromMinutes(1.5), Parsed("-drain-timeout", "1m30s").DrainTimeout);
        Assert.Equal(TimeSpan.Zero, Parsed("-drain-timeout=0").DrainTimeout);
    }

    [Theory]
    [InlineData("-1s", "must not be negative")]
    [InlineData("ten", "not a Go duration")]
    public void DrainTimeout_BadOrNegative_IsRefusedNamingIt(string text, string reason)
    {
        string message = Refused("-drain-timeout", text);
        Assert.StartsWith($"invalid value \"{text}\" for flag -drain-timeout: ", message);
        Assert.Contains(reason, message);
    }

    [Fact]
    public void ControllerToken_FromTheFlag_WinsOverTheEnvironment()
    {
        var result = Mtt.Daemon.CommandLine.Parse(["-c-token", "from-flag"], _ => "from-env");
        AssertTokenIs("from-flag", result.Options!.Controller.Token);
    }

    [Fact]
    public void ControllerToken_WithoutTheFlag_ComesFromMttControllerToken()
    {
        var result = Mtt.Daemon.CommandLine.Parse([], name => name == "MTT_CONTROLLER_TOKEN" ? "from-env" : null);
        AssertTokenIs("from-env", result.Options!.Controller.Token);
    }

    // The token keeps its value to itself; what it admits is what a controller client would notice.
    private static void AssertTokenIs(string expected, ControllerToken? token)
    {
        Assert.NotNull(token);
        Assert.True(token.Admits($"Bearer {expected}"));
        Assert.False(token.Admits("Bearer from-neither"));
    }

    [Fact]
    public void ControllerToken_EmptyOrUnset_MeansNone()
    {
        Assert.Null(Mtt.Daemon.CommandLine.Parse([], _ => null).Options!.Controller.Token);
        Assert.Null(Mtt.Daemon.CommandLine.Parse(["-c-token="], _ => "from-env").Options!.Controller.Token);
    }

    [Fact]
    public void ControllerToken_ThatIsNoBearerToken_IsRefused_WithoutEchoingIt()
    {
        var result = Mtt.Daemon.CommandLine.Parse(["-c-token", "two words"], _ => null);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("invalid value for flag -c-token: ", result.Error);
        Assert.DoesNotContain("two words", result.Error);

        var fromEnvironment = Mtt.Daemon.CommandLine.Parse([], _ => "bad token");
        Assert.Equal(2, fromEnvironment.ExitCode);
        Assert.StartsWith("invalid $MTT_CONTROLLER_TOKEN: ", fromEnvironment.Error);
    }

    [Fact]
    public void TlsEngine_IsOpenSslByDefault_AndSslStreamOnRequest_AndSaysWhetherItWasGiven()
    {
        var byDefault = Parsed("-force-tls");
        Assert.Equal(Mtt.Core.Transport.TlsEngine.OpenSsl, byDefault.Tunnel.TlsEngine);
        Assert.False(byDefault.TlsEngineGiven);
        var named = Parsed("-force-tls", "-tls-engine", "openssl");
        Assert.Equal(Mtt.Core.Transport.TlsEngine.OpenSsl, named.Tunnel.TlsEngine);
        Assert.True(named.TlsEngineGiven);
        Assert.Equal(Mtt.Core.Transport.TlsEngine.SslStream, Parsed("-tls-engine=sslstream").Tunnel.TlsEngine);
        Assert.True(Parsed("-tls-engine=sslstream").TlsEngineGiven);
    }

    [Fact]
    public void TlsEngine_OtherThanTheTwo_IsRefused()
    {
        Assert.StartsWith("invalid value \"boringssl\" for flag -tls-engine: want sslstream or openssl", Refused("-tls-engine", "boringssl"));
    }
}
