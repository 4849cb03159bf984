using Mtt.Core.Diagnostics;
using Mtt.Daemon;

namespace Mtt.Tests.CommandLine;

/// <summary>-log-format as the command line reads it: text by default, or json; anything else is a usage error.</summary>
public sealed class LogFormatFlagTests
{
    [Theory]
    [InlineData(new string[0], LogFormat.Text)]
    [InlineData(new[] { "-log-format", "text" }, LogFormat.Text)]
    [InlineData(new[] { "-log-format=json" }, LogFormat.Json)]
    [InlineData(new[] { "--log-format", "json" }, LogFormat.Json)]
    public void LogFormat_IsTextOrJson(string[] args, LogFormat expected)
    {
        var result = Mtt.Daemon.CommandLine.Parse(args);
        Assert.True(result.Options is not null, result.Error);
        Assert.Equal(expected, result.Options.LogFormat);
    }

    [Theory]
    [InlineData("JSON")]
    [InlineData("journal")]
    [InlineData("")]
    public void LogFormat_OtherValues_AreRefusedSayingWhatIsWanted(string value)
    {
        var result = Mtt.Daemon.CommandLine.Parse(["-log-format", value]);
        Assert.Null(result.Options);
        Assert.Equal(CommandLineResult.UsageErrorExitCode, result.ExitCode);
        Assert.StartsWith($"invalid value \"{value}\" for flag -log-format: want text or json\n", result.Error);
    }

    [Fact]
    public void TheUsage_ShowsTheFlag()
    {
        Assert.Contains("-log-format string", Mtt.Daemon.CommandLine.Parse(["-h"]).Output + Mtt.Daemon.CommandLine.Parse(["-h"]).Error);
    }
}
