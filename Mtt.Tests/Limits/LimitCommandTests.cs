using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Mtt.Core.Control.Commands;
using Mtt.Core.Control.State;
using Mtt.Core.Routing;
using Mtt.Tests.Support;

namespace Mtt.Tests.Limits;

/// <summary>opt 1's limit fields as an operator's script sends them: checked whole, listed by opt 4, kept in the state file.</summary>
public sealed class LimitCommandTests
{
    private static ControllerReply Run(string json, RouteStore routes) => CommandProcessor.Execute(Encoding.UTF8.GetBytes(json), routes);

    private static JsonElement ListedUser(RouteStore routes, string path)
    {
        var json = Run("""{"opt":4}""", routes).ToUtf8Json();
        foreach (var user in JsonDocument.Parse(json).RootElement.GetProperty("users").EnumerateArray())
        {
            if (user.GetProperty("path").GetString() == path) return user.Clone();
        }
        throw new Xunit.Sdk.XunitException($"no user {path} in {Encoding.UTF8.GetString(json)}");
    }

    [Fact]
    public void EveryLimit_IsSet_AndListedWithWhatIsLeft()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero));
        var routes = new RouteStore(RouteTable.Empty, persist: null) { Time = time };
        var reply = Run("""
            {"opt":1,"args_bunch":[{"path":"/a","dst":"127.0.0.1:9000","max_conns":2,"max_ips":1,"rate":1000000,
             "quota":5000000000,"expires":"2026-12-31T23:59:59Z"}]}
            """, routes);
        Assert.Equal(ControllerReply.Success, reply.Res);

        var user = ListedUser(routes, "/a");
        Assert.Equal(2, user.GetProperty("max_conns").GetInt32());
        Assert.Equal(1, user.GetProperty("max_ips").GetInt32());
        Assert.Equal(1_000_000, user.GetProperty("rate").GetInt64());
        Assert.Equal(5_000_000_000, user.GetProperty("quota").GetInt64());
        Assert.Equal(5_000_000_000, user.GetProperty("quota_left").GetInt64());
        Assert.Equal(new DateTimeOffset(2026, 12, 31, 23, 59, 59, TimeSpan.Zero), user.GetProperty("expires").GetDateTimeOffset());
        Assert.False(user.GetProperty("expired").GetBoolean());

        time.Advance(TimeSpan.FromDays(214));
        Assert.True(ListedUser(routes, "/a").GetProperty("expired").GetBoolean());
    }

    [Fact]
    public void SeedFormatEntries_AreUnlimited_AndListedAsBefore()
    {
        var routes = new RouteStore();
        Assert.Equal(ControllerReply.Success, Run("""{"opt":1,"args_bunch":[{"path":"/seed","dst":"127.0.0.1:9000"}]}""", routes).Res);
        var user = ListedUser(routes, "/seed");
        foreach (var field in new[] { "max_conns", "max_ips", "rate", "quota", "quota_left", "expires", "expired" })
            Assert.False(user.TryGetProperty(field, out _), field);
        Assert.True(routes.Current.TryGet("/seed", out var route));
        Assert.True(route.Limits.IsNone);
        Assert.Null(route.State.Limiter.Upstream);
    }

    [Theory]
    [InlineData("\"max_conns\":0", "max_conns must be between 1 and 1000000")]
    [InlineData("\"max_conns\":-1", "max_conns must be between 1 and 1000000")]
    [InlineData("\"max_ips\":1.5", "max_ips must be a whole number")]
    [InlineData("\"rate\":\"1000\"", "rate must be a number")]
    [InlineData("\"rate\":0", "rate must be between 1 and")]
    [InlineData("\"quota\":true", "quota must be a number")]
    [InlineData("\"quota\":-5", "quota must be between 1 and")]
    [InlineData("\"expires\":\"next week\"", "expires must be an RFC 3339 time")]
    [InlineData("\"expires\":1767225599", "expires must be an RFC 3339 time")]
    public void ABadValue_IsRefusedNamingTheEntry_AndNothingOfTheRequestIsApplied(string field, string reason)
    {
        var routes = new RouteStore();
        Assert.Equal(ControllerReply.Success, Run("""{"opt":1,"args_bunch":[{"path":"/kept","dst":"127.0.0.1:9000","rate":5000}]}""", routes).Res);

        var reply = Run($$"""{"opt":1,"args_bunch":[{"path":"/kept","dst":"127.0.0.1:9000"},{"path":"/bad","dst":"127.0.0.1:9000",{{field}}}]}""", routes);

        Assert.Equal(ControllerReply.Failure, reply.Res);
        Assert.StartsWith("args_bunch[1] (path \"/bad\"): " + reason, reply.ErrString);
        Assert.False(routes.Current.TryGet("/bad", out _));
        // The first entry would have lifted /kept's rate: it did not.
        Assert.True(routes.Current.TryGet("/kept", out var kept));
        Assert.Equal(5000, kept.Limits.Rate);
    }

    [Fact]
    public void Limits_AndTheQuotaSpent_SurviveARestart_ThroughTheStateFile()
    {
        using var directory = new TemporaryDirectory();
        var file = new UserStateFile(Path.Combine(directory.Path, "users.json"));
        var routes = new RouteStore(RouteTable.Empty, file.Save);
        Run("""{"opt":1,"args_bunch":[{"path":"/q","dst":"127.0.0.1:9000","quota":1000,"max_conns":3,"expires":"2030-01-01T00:00:00+01:00"}]}""", routes);
        Assert.True(routes.Current.TryGet("/q", out var route));
        route.State.AddFromClient(300);
        routes.SaveNow();

        var reloaded = new RouteStore(file.Load(out _), persist: null);
        var user = ListedUser(reloaded, "/q");
        Assert.Equal(1000, user.GetProperty("quota").GetInt64());
        Assert.Equal(700, user.GetProperty("quota_left").GetInt64());
        Assert.Equal(3, user.GetProperty("max_conns").GetInt32());
        Assert.Equal(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.FromHours(1)), user.GetProperty("expires").GetDateTimeOffset());
        Assert.Contains("\"quota_used\": 300", File.ReadAllText(file.Path));
    }

    [Fact]
    public void AStateFileWithABadLimit_IsRefusedAsCorrupt()
    {
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "users.json");
        File.WriteAllText(path, """{"version":1,"users":[{"path":"/a","dst":"127.0.0.1:9000","rate":0}]}""");
        var e = Assert.Throws<StateFileException>(() => new UserStateFile(path).Load(out _));
        Assert.Contains("users[0]: rate must be between 1 and", e.Message);
    }
}
