using System.Net;
using System.Net.Sockets;
using System.Text;
using Mtt.Core.Control.Http;
using Mtt.Core.Diagnostics;
using Mtt.Core.Routing;
using Mtt.Core.Transport;

namespace Mtt.Tests.Control;

/// <summary>The controller as scripts use it: POSTed JSON over loopback with an ordinary HTTP client.</summary>
public class ControllerServerTests
{
    [Fact]
    public async Task AddUsers_AreAppliedAndAnsweredResOne()
    {
        await using var controller = RunningController.Start();

        var (status, reply, body) = await controller.PostAsync("""{"opt": 1, "args_bunch": [{"path": "/path_1", "dst": "127.0.0.1:10001"}, {"path": "/path_2", "dst": "[::1]:10002"}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"res":1}""", body);
        Assert.Equal(2, controller.Routes.Current.Count);
        Assert.True(controller.Routes.Current.TryGetUtf8("/path_2"u8, out var route));
        Assert.Equal(new BackendAddress("::1", 10002), route.Backend);
    }

    [Fact]
    public async Task Ping_AnswersCurrentUsers_AlsoWhenZero()
    {
        await using var controller = RunningController.Start();

        var (_, _, empty) = await controller.PostAsync("""{"opt":9}""");
        await controller.PostAsync(UserBodies.Add(5));
        var (_, _, five) = await controller.PostAsync("""{"opt":9}""");

        Assert.Equal("""{"res":1,"current_users":0}""", empty);
        Assert.Equal("""{"res":1,"current_users":5}""", five);
    }

    [Fact]
    public async Task DeleteAndReset_RemoveUsers()
    {
        await using var controller = RunningController.Start();
        await controller.PostAsync(UserBodies.Add(3));

        var (_, deleted, _) = await controller.PostAsync("""{"opt":2,"args_bunch":[{"path":"/path_0"},{"path":"/unknown"}]}""");
        Assert.Equal(1, deleted.GetProperty("res").GetInt32());
        Assert.Equal(2, controller.Routes.Current.Count);
        Assert.False(controller.Routes.Current.TryGet("/path_0", out _));

        var (_, reset, _) = await controller.PostAsync("""{"opt":3}""");
        Assert.Equal(1, reset.GetProperty("res").GetInt32());
        Assert.Equal(0, controller.Routes.Current.Count);
    }

    [Fact]
    public async Task RefusedCommand_IsHttp200WithResTwo_AndChangesNothing()
    {
        await using var controller = RunningController.Start();
        await controller.PostAsync(UserBodies.Add("/keep", "127.0.0.1:1"));
        var before = controller.Routes.Current;

        var (status, reply, _) = await controller.PostAsync("""{"opt":1,"args_bunch":[{"path":"/a","dst":"127.0.0.1:1"},{"path":"/b","dst":"nope"}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, reply.GetProperty("res").GetInt32());
        Assert.Equal("args_bunch[1] (path \"/b\"): dst must be host:port", reply.GetProperty("err_string").GetString());
        Assert.Same(before, controller.Routes.Current);
    }

    [Fact]
    public async Task AnyRequestPathAndContentType_AreAccepted()
    {
        await using var controller = RunningController.Start();

        var (_, reply, _) = await controller.PostAsync(UserBodies.Add("/a", "127.0.0.1:1"), "/some/where?x=1");
        using var json = new StringContent("""{"opt":9}""", Encoding.UTF8, "application/json");
        var (_, ping, _) = await controller.PostAsync(json, "/api");

        Assert.Equal(1, reply.GetProperty("res").GetInt32());
        Assert.Equal(1, ping.GetProperty("current_users").GetInt32());
    }

    [Fact]
    public async Task Get_Gets405WithJsonBodyAndAllow()
    {
        await using var controller = RunningController.Start();

        using var response = await controller.Http.GetAsync("/").WaitAsync(RunningController.Bound);
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("POST", response.Content.Headers.Allow);
        Assert.StartsWith("""{"res":2,"err_string":"method GET is not allowed""", body);
    }

    [Fact]
    public async Task BodyOfExactly2MiB_IsAccepted()
    {
        await using var controller = RunningController.Start();
        byte[] body = UserBodies.PaddedAdd("/big", ControllerLimits.DefaultMaxBodyBytes);
        Assert.Equal(2_097_152, body.Length);

        using var content = new ByteArrayContent(body);
        var (status, reply, _) = await controller.PostAsync(content);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, reply.GetProperty("res").GetInt32());
        Assert.True(controller.Routes.Current.TryGet("/big", out _));
    }

    [Fact]
    public async Task FortyThousandUsers_InOneRequest_AreApplied()
    {
        await using var controller = RunningController.Start();
        string body = UserBodies.Add(40_000);

        var (status, reply, _) = await controller.PostAsync(body);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, reply.GetProperty("res").GetInt32());
        Assert.Equal(40_000, controller.Routes.Current.Count);
        Assert.True(controller.Routes.Current.TryGetUtf8("/path_12345"u8, out var route));
        Assert.Equal(22345, route.Backend.Port);
    }

    [Fact]
    public async Task Commands_AreLoggedAtInfoWithoutPaths()
    {
        await using var controller = RunningController.Start();

        await controller.PostAsync(UserBodies.Add("/secret-path", "127.0.0.1:1"));
        await controller.PostAsync(UserBodies.Add("/secret-path", "bad"));

        string log = controller.LogText;
        Assert.Contains("INFO controller 127.0.0.1:", log);
        Assert.Contains("opt 1, 1 entries: applied, 1 users", log);
        Assert.Contains("opt 1, 1 entries: refused: args_bunch[0]: dst must be host:port", log);
        Assert.DoesNotContain("secret-path", log);
    }

    [Fact]
    public async Task Refusal_NamesThePathOnlyInVerboseLog()
    {
        await using var controller = RunningController.Start(verbose: true);

        await controller.PostAsync(UserBodies.Add("/secret-path", "bad"));

        Assert.Contains("DEBUG controller 127.0.0.1:", controller.LogText);
        Assert.Contains("/secret-path", controller.LogText);
    }

    [Fact]
    public async Task Start_ResolvesPortZero_AndATakenAddressThrows()
    {
        await using var first = RunningController.Start();
        Assert.NotEqual(0, first.Server.LocalEndPoint.Port);

        await using var second = new ControllerServer(new ControllerServerOptions { Bind = first.Server.LocalEndPoint }, new RouteStore(), ServerLog.Silent);
        Assert.Throws<SocketException>(second.Start);
        Assert.Throws<InvalidOperationException>(() => second.LocalEndPoint);
    }
}
