using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Mtt.Core.Control.Http;
using Mtt.Core.Diagnostics;
using Mtt.Core.Listening;
using Mtt.Core.Mux;
using Mtt.Core.Relay;
using Mtt.Core.Transport;

namespace Mtt.Tests.Diagnostics;

/// <summary>The three shapes of a line (text, journal, JSON) and what -verbose lets through, on typed events of the server.</summary>
public sealed class ServerLogTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 4, 5, 6, 7, 890, TimeSpan.Zero);

    private static (ServerLog Log, StringWriter Output) Create(bool verbose, LogFormat format = LogFormat.Text, bool journal = false)
    {
        var output = new StringWriter();
        return (new ServerLog(output, verbose, format, journal, new FakeTimeProvider(Now)), output);
    }

    private static string[] Lines(StringWriter output) => output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void Text_IsGosLine_TimestampLevelMessage()
    {
        var (log, output) = Create(verbose: false);
        RelayLog.BackendFailed(log, "203.0.113.7:5000", "acct-1", new BackendAddress("127.0.0.1", 9), "connection refused");
        Assert.Equal("2026-03-04T05:06:07.890Z WARN 203.0.113.7:5000: user acct-1: backend 127.0.0.1:9 failed: connection refused; closed the tunnel with 1011\n", output.ToString());
    }

    [Fact]
    public void WithoutVerbose_DebugIsOff_AndWritesNothing()
    {
        var (log, output) = Create(verbose: false);
        Assert.False(log.IsEnabled(LogLevel.Debug));
        Assert.True(log.IsEnabled(LogLevel.Information));
        ListeningLog.NoUserForPath(log, "203.0.113.7:5000", "/secret");
        Assert.Equal("", output.ToString());

        var (verboseLog, verboseOutput) = Create(verbose: true);
        ListeningLog.NoUserForPath(verboseLog, "203.0.113.7:5000", "/secret");
        Assert.Equal("2026-03-04T05:06:07.890Z DEBUG 203.0.113.7:5000: refused with 404: no user for path /secret\n", verboseOutput.ToString());
    }

    [Fact]
    public void Silent_IsOffAtEveryLevel()
    {
        Assert.All(Enum.GetValues<LogLevel>(), level => Assert.False(ServerLog.Silent.IsEnabled(level)));
    }

    [Theory]
    [InlineData(LogLevel.Error, "<3>")]
    [InlineData(LogLevel.Warning, "<4>")]
    [InlineData(LogLevel.Information, "<6>")]
    [InlineData(LogLevel.Debug, "<7>")]
    public void Journal_EveryLineStartsWithItsPriority_AndHasNoTimestamp(LogLevel level, string priority)
    {
        var (log, output) = Create(verbose: true, journal: true);
        log.Log(level, new EventId(1, "Test"), "line one", null, (state, _) => state);
        Assert.Equal($"{priority}{ServerLog.LevelName(level)} line one\n", output.ToString());
    }

    [Fact]
    public void Journal_AStackTraceOrAFieldWithNewlines_GetsThePriorityOnEachLine()
    {
        var (log, output) = Create(verbose: true, journal: true);
        Exception failure;
        try
        {
            throw new InvalidOperationException("broken");
        }
        catch (InvalidOperationException e)
        {
            failure = e;
        }
        ListeningLog.ConnectionFailed(log, "203.0.113.7:5000", failure);
        // A field with a newline cannot forge a line of another priority.
        ControllerLog.Rejected(log, "203.0.113.7:5000", 400, "bad\n<3>ERROR forged");

        var lines = Lines(output);
        Assert.True(lines.Length >= 5, string.Join("\n", lines));
        Assert.StartsWith("<3>ERROR 203.0.113.7:5000: connection failed unexpectedly", lines[0]);
        Assert.Contains(lines, line => line.StartsWith("<3>System.InvalidOperationException: broken", StringComparison.Ordinal));
        Assert.Equal("<4><3>ERROR forged", lines[^1]);
        Assert.All(lines[..^2], line => Assert.StartsWith("<3>", line));
        Assert.StartsWith("<4>WARN", lines[^2]);
    }

    [Fact]
    public void Json_OneObjectPerLine_WithTheEventAndItsFieldsTyped()
    {
        var (log, output) = Create(verbose: true, LogFormat.Json);
        MuxLog.SessionClosed(log, "203.0.113.7:5000", "acct-1", SmuxEndReason.ClientClosed, "", 12.345, 3, 1, 1000, 2000);
        ListeningLog.ProxyHeaderRead(log, "203.0.113.7:5000", 2, new IPEndPoint(IPAddress.Parse("192.0.2.1"), 443));

        var lines = Lines(output);
        Assert.Equal(2, lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        var root = first.RootElement;
        Assert.Equal("2026-03-04T05:06:07.89Z", root.GetProperty("time").GetString());
        Assert.Equal("DEBUG", root.GetProperty("level").GetString());
        Assert.Equal("SessionClosed", root.GetProperty("event").GetString());
        Assert.Equal(3002, root.GetProperty("id").GetInt32());
        Assert.Equal("203.0.113.7:5000: smux session closed for user acct-1 (ClientClosed) after 12.3 s, 3 streams (1 refused), 1000 bytes from the client, 2000 bytes to it",
            root.GetProperty("message").GetString());
        Assert.Equal("acct-1", root.GetProperty("user").GetString());
        Assert.Equal("ClientClosed", root.GetProperty("reason").GetString());
        Assert.Equal(12.345, root.GetProperty("seconds").GetDouble());
        Assert.Equal(JsonValueKind.Number, root.GetProperty("bytesToClient").ValueKind);
        Assert.Equal(2000, root.GetProperty("bytesToClient").GetInt64());
        Assert.False(root.TryGetProperty("{OriginalFormat}", out _));

        using var second = JsonDocument.Parse(lines[1]);
        Assert.Equal("192.0.2.1:443", second.RootElement.GetProperty("destination").GetString());
        Assert.Equal(2, second.RootElement.GetProperty("version").GetInt32());
    }

    [Fact]
    public void Json_UnderTheJournal_HasThePriorityBeforeTheObject()
    {
        var (log, output) = Create(verbose: false, LogFormat.Json, journal: true);
        ControllerLog.Rejected(log, "203.0.113.7:5000", 401, "missing \"token\"\n");
        string line = Assert.Single(Lines(output));
        Assert.StartsWith("<4>{", line);
        using var json = JsonDocument.Parse(line[3..]);
        Assert.Equal("missing \"token\"\n", json.RootElement.GetProperty("reason").GetString());
        Assert.Equal("WARN", json.RootElement.GetProperty("level").GetString());
    }
}
