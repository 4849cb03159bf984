using Mtt.Core.Listening;
using Mtt.Daemon;

namespace Mtt.Tests.Hardening;

public class LimitFlagsTests
{
    [Fact]
    public void Defaults_AreTenThousandConnections_AndAThousandHandshakes()
    {
        var options = Mtt.Daemon.CommandLine.Parse([]).Options!;

        Assert.Equal(TunnelServerOptions.DefaultMaxConnections, options.Tunnel.MaxConnections);
        Assert.Equal(TunnelServerOptions.DefaultMaxHandshakes, options.Tunnel.MaxHandshakes);
        Assert.Equal(10_000, options.Tunnel.MaxConnections);
        Assert.Equal(1_000, options.Tunnel.MaxHandshakes);
        Assert.Contains("-max-connections int", Mtt.Daemon.CommandLine.Usage);
        Assert.Contains("(default 10000)", Mtt.Daemon.CommandLine.Usage);
    }

    [Fact]
    public void MaxPendingPerIp_Defaults_To64_AndZeroTurnsItOff()
    {
        Assert.Equal(64, Mtt.Daemon.CommandLine.Parse([]).Options!.Tunnel.MaxPendingPerAddress);
        Assert.Equal(TunnelServerOptions.DefaultMaxPendingPerAddress, new TunnelServerOptions { Bind = new System.Net.IPEndPoint(0, 0) }.MaxPendingPerAddress);
        Assert.Contains("-max-pending-per-ip int", Mtt.Daemon.CommandLine.Usage);
        Assert.Equal(0, Mtt.Daemon.CommandLine.Parse(["-max-pending-per-ip=0"]).Options!.Tunnel.MaxPendingPerAddress);
        Assert.Equal(3, Mtt.Daemon.CommandLine.Parse(["--max-pending-per-ip", "3"]).Options!.Tunnel.MaxPendingPerAddress);
    }

    [Fact]
    public void GivenLimits_AreTaken_InGoSyntax()
    {
        var options = Mtt.Daemon.CommandLine.Parse(["-max-connections", "5", "--max-handshakes=2"]).Options!;

        Assert.Equal(5, options.Tunnel.MaxConnections);
        Assert.Equal(2, options.Tunnel.MaxHandshakes);
    }

    [Theory]
    [InlineData("-max-connections", "0")]
    [InlineData("-max-connections", "-1")]
    [InlineData("-max-connections", "ten")]
    [InlineData("-max-handshakes", "0")]
    [InlineData("-max-handshakes", "99999999999")]
    [InlineData("-max-pending-per-ip", "-1")]
    [InlineData("-max-pending-per-ip", "many")]
    public void ZeroNegativeOrNonNumericLimit_IsAUsageError(string flag, string value)
    {
        var result = Mtt.Daemon.CommandLine.Parse([flag, value]);

        Assert.Null(result.Options);
        Assert.Equal(CommandLineResult.UsageErrorExitCode, result.ExitCode);
        Assert.Contains($"for flag {flag}", result.Error);
    }
}
