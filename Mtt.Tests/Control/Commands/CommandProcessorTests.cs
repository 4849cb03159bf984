using System.Text;
using Mtt.Core.Control.Commands;
using Mtt.Core.Control.Http;
using Mtt.Core.Routing;
using Mtt.Core.Transport;

namespace Mtt.Tests.Control.Commands;

public class CommandProcessorTests
{
    private static ControllerReply Run(string json, RouteStore routes) => CommandProcessor.Execute(Encoding.UTF8.GetBytes(json), routes);

    private static RouteStore StoreWith(params (string Path, string Dst)[] users)
    {
        var routes = new RouteStore();
        foreach (var (path, dst) in users)
        {
            Assert.Equal(ControllerReply.Success, Run(UserBodies.Add(path, dst), routes).Res);
        }
        return routes;
    }

    [Fact]
    public void Add_InsertsEachUserWithItsBackend()
    {
        var routes = new RouteStore();
        var reply = Run("""{"opt":1,"args_bunch":[{"path":"/a","dst":"127.0.0.1:10001"},{"path":"/b","dst":"[::1]:443"},{"path":"/c","dst":"backend.local:8080"}]}""", routes);

        Assert.Equal(ControllerReply.Success, reply.Res);
        Assert.Null(reply.ErrString);
        Assert.Null(reply.CurrentUsers);
        Assert.Equal(3, routes.Current.Count);
        Assert.True(routes.Current.TryGet("/a", out var a));
        Assert.Equal(new BackendAddress("127.0.0.1", 10001), a.Backend);
        Assert.True(routes.Current.TryGet("/b", out var b));
        Assert.Equal(new BackendAddress("::1", 443), b.Backend);
        Assert.True(routes.Current.TryGet("/c", out var c));
        Assert.Equal(new BackendAddress("backend.local", 8080), c.Backend);
    }

    [Fact]
    public void Add_OverwritesAnExistingPath()
    {
        var routes = StoreWith(("/a", "127.0.0.1:1"));

        Assert.Equal(ControllerReply.Success, Run(UserBodies.Add("/a", "127.0.0.1:2"), routes).Res);

        Assert.Equal(1, routes.Current.Count);
        Assert.True(routes.Current.TryGet("/a", out var route));
        Assert.Equal(2, route.Backend.Port);
    }

    [Fact]
    public void Add_DuplicatePathsInOneRequest_LastWins()
    {
        var routes = new RouteStore();

        var reply = Run("""{"opt":1,"args_bunch":[{"path":"/a","dst":"127.0.0.1:1"},{"path":"/a","dst":"127.0.0.1:3"}]}""", routes);

        Assert.Equal(ControllerReply.Success, reply.Res);
        Assert.True(routes.Current.TryGet("/a", out var route));
        Assert.Equal(3, route.Backend.Port);
    }

    [Fact]
    public void Add_IgnoresUnknownPropertiesAndMatchesNamesCaseInsensitively()
    {
        var routes = new RouteStore();

        var reply = Run("""{"OPT":1,"version":2,"Args_Bunch":[{"name":"alice","PATH":"/a","Dst":"127.0.0.1:1","extra":{"x":[1,2]}}]}""", routes);

        Assert.Equal(ControllerReply.Success, reply.Res);
        Assert.True(routes.Current.TryGet("/a", out _));
    }

    [Fact]
    public void Add_PathOfExactly1024Utf8Bytes_IsAccepted_1025IsRefused()
    {
        var routes = new RouteStore();
        // '/' + 340 three-byte characters + 3 ASCII = 1024 bytes.
        string path = "/" + new string('€', 340) + "abc";
        Assert.Equal(1024, Encoding.UTF8.GetByteCount(path));

        Assert.Equal(ControllerReply.Success, Run(UserBodies.Add(path, "127.0.0.1:1"), routes).Res);
        Assert.True(routes.Current.TryGetUtf8(Encoding.UTF8.GetBytes(path), out _));

        var refused = Run(UserBodies.Add(path + "c", "127.0.0.1:1"), routes);
        Assert.Equal(ControllerReply.Failure, refused.Res);
        Assert.Contains("longer than 1024 bytes", refused.ErrString);
        Assert.Equal(1, routes.Current.Count);
    }

    [Fact]
    public void Delete_RemovesListedPaths_IgnoresUnknownOnes_AndNeedsNoDst()
    {
        var routes = StoreWith(("/a", "127.0.0.1:1"), ("/b", "127.0.0.1:2"), ("/c", "127.0.0.1:3"));

        var reply = Run("""{"opt":2,"args_bunch":[{"path":"/a"},{"path":"/nobody"},{"path":"/c","dst":12}]}""", routes);

        Assert.Equal(ControllerReply.Success, reply.Res);
        Assert.Equal(1, routes.Current.Count);
        Assert.True(routes.Current.TryGet("/b", out _));
    }

    [Fact]
    public void Reset_RemovesEveryUser_AndIgnoresArgs()
    {
        var routes = StoreWith(("/a", "127.0.0.1:1"), ("/b", "127.0.0.1:2"));

        Assert.Equal(ControllerReply.Success, Run("""{"opt":3,"args_bunch":"whatever"}""", routes).Res);

        Assert.Equal(0, routes.Current.Count);
    }

    [Fact]
    public void Ping_CarriesCurrentUsers_AlsoWhenZero()
    {
        var routes = new RouteStore();
        var empty = Run("""{"opt":9}""", routes);
        Assert.Equal("""{"res":1,"current_users":0}""", Encoding.UTF8.GetString(empty.ToUtf8Json()));

        Run(UserBodies.Add(3), routes);
        var three = Run("""{"opt":9,"args_bunch":[1]}""", routes);
        Assert.Equal("""{"res":1,"current_users":3}""", Encoding.UTF8.GetString(three.ToUtf8Json()));
    }

    [Fact]
    public void LeadingByteOrderMark_IsIgnored()
    {
        var routes = new RouteStore();
        byte[] body = [.. "\uFEFF"u8, .. Encoding.UTF8.GetBytes(UserBodies.Add("/a", "127.0.0.1:1"))];

        Assert.Equal(ControllerReply.Success, CommandProcessor.Execute(body, routes).Res);
        Assert.Equal(1, routes.Current.Count);
    }

    [Fact]
    public void Success_SerialisesAsResOneOnly_RefusalAsResTwoWithErrString()
    {
        Assert.Equal("""{"res":1}""", Encoding.UTF8.GetString(ControllerReply.Ok.ToUtf8Json()));
        Assert.Equal("""{"res":2,"err_string":"opt is missing"}""", Encoding.UTF8.GetString(Run("{}", new RouteStore()).ToUtf8Json()));
    }

    [Theory]
    [InlineData("", "body is empty")]
    [InlineData("  \r\n ", "body is empty")]
    [InlineData("[1]", "body must be a JSON object")]
    [InlineData("null", "body must be a JSON object")]
    [InlineData("""{"opt":1,""", "malformed JSON")]
    [InlineData("""{"opt":9} trailing""", "malformed JSON")]
    [InlineData("""{"args_bunch":[]}""", "opt is missing")]
    [InlineData("""{"opt":null}""", "opt is missing")]
    [InlineData("""{"opt":"1"}""", "opt must be an integer")]
    [InlineData("""{"opt":1.5}""", "opt must be an integer")]
    [InlineData("""{"opt":[1]}""", "opt must be an integer")]
    [InlineData("""{"opt":7}""", "unknown opt 7")]
    [InlineData("""{"opt":6}""", "start it with -redis")]
    [InlineData("""{"opt":1}""", "args_bunch is missing")]
    [InlineData("""{"opt":2,"args_bunch":null}""", "args_bunch is missing")]
    [InlineData("""{"opt":1,"args_bunch":[]}""", "args_bunch is empty")]
    [InlineData("""{"opt":2,"args_bunch":[]}""", "args_bunch is empty")]
    [InlineData("""{"opt":1,"args_bunch":{"path":"/a"}}""", "args_bunch must be an array")]
    [InlineData("""{"opt":1,"args_bunch":["/a"]}""", "args_bunch[0]: entry must be a JSON object")]
    [InlineData("""{"opt":1,"args_bunch":[{"dst":"127.0.0.1:1"}]}""", "args_bunch[0]: path is missing")]
    [InlineData("""{"opt":1,"args_bunch":[{"path":7,"dst":"127.0.0.1:1"}]}""", "args_bunch[0]: path must be a string")]
    [InlineData("""{"opt":1,"args_bunch":[{"path":"\ud800","dst":"127.0.0.1:1"}]}""", "args_bunch[0]: path is not valid Unicode text")]
    [InlineData("""{"opt":1,"args_bunch":[{"path":"a","dst":"127.0.0.1:1"}]}""", "args_bunch[0] (path \"a\"): path must start with '/'")]
    [InlineData("""{"opt":1,"args_bunch":[{"path":"","dst":"127.0.0.1:1"}]}""", "path must start with '/'")]
    [InlineData("""{"opt":1,"args_bunch":[{"path":"/a b","dst":"127.0.0.1:1"}]}""", "(path \"/a b\"): path must not contain whitespace or control characters")]
    [InlineData("""{"opt":1,"args_bunch":[{"path":"/a\tb","dst":"127.0.0.1:1"}]}""", "must not contain whitespace or control characters")]
    [InlineData("""{"opt":1,"args_bunch":[{"path":"/a\u0001","dst":"127.0.0.1:1"}]}""", "must not contain whitespace or control characters")]
    [InlineData("""{"opt":1,"args_bunch":[{"path":"/a?b=1","dst":"127.0.0.1:1"}]}""", "must not contain '?' or '#'")]
    [InlineData("""{"opt":1,"args_bunch":[{"path":"/a#b","dst":"127.0.0.1:1"}]}""", "must not contain '?' or '#'")]
    [InlineData("""{"opt":1,"args_bunch":[{"path":"/a\u00a0","dst":"127.0.0.1:1"}]}""", "must not contain whitespace or control characters")]
    [InlineData("""{"opt":1,"args_bunch":[{"path":"/a"}]}""", "args_bunch[0] (path \"/a\"): dst is missing")]
    [InlineData("""{"opt":1,"args_bunch":[{"path":"/a","dst":8080}]}""", "args_bunch[0] (path \"/a\"): dst must be a string")]
    [InlineData("""{"opt":1,"args_bunch":[{"path":"/a","dst":"127.0.0.1"}]}""", "dst must be host:port")]
    [InlineData("""{"opt":1,"args_bunch":[{"path":"/a","dst":"127.0.0.1:0"}]}""", "dst port must be 1-65535")]
    [InlineData("""{"opt":1,"args_bunch":[{"path":"/a","dst":"127.0.0.1:65536"}]}""", "dst port must be 1-65535")]
    [InlineData("""{"opt":1,"args_bunch":[{"path":"/a","dst":"::1:80"}]}""", "needs brackets")]
    [InlineData("""{"opt":1,"args_bunch":[{"path":"/a","dst":"[::1:80"}]}""", "[ipv6]:port")]
    [InlineData("""{"opt":1,"args_bunch":[{"path":"/a","dst":"bad host:80"}]}""", "invalid host name")]
    [InlineData("""{"opt":2,"args_bunch":[{"dst":"127.0.0.1:1"}]}""", "args_bunch[0]: path is missing")]
    [InlineData("""{"opt":2,"args_bunch":[{"path":"nope"}]}""", "path must start with '/'")]
    public void InvalidCommand_IsRefusedWithReason_AndChangesNothing(string json, string reason)
    {
        var routes = StoreWith(("/keep", "127.0.0.1:1"));
        var before = routes.Current;

        var reply = Run(json, routes);

        Assert.Equal(ControllerReply.Failure, reply.Res);
        Assert.Contains(reason, reply.ErrString);
        Assert.Same(before, routes.Current);
    }

    [Fact]
    public void OneBadEntry_RefusesTheWholeRequest_NamingItsIndexAndPath()
    {
        var routes = StoreWith(("/keep", "127.0.0.1:1"));
        var before = routes.Current;

        var reply = Run("""{"opt":1,"args_bunch":[{"path":"/a","dst":"127.0.0.1:1"},{"path":"/b","dst":"127.0.0.1:99999"},{"path":"/c","dst":"127.0.0.1:3"}]}""", routes);

        Assert.Equal(ControllerReply.Failure, reply.Res);
        Assert.Equal("args_bunch[1] (path \"/b\"): dst port must be 1-65535", reply.ErrString);
        Assert.Same(before, routes.Current);
        Assert.False(routes.Current.TryGet("/a", out _));
    }

    [Fact]
    public void LongPath_IsQuotedShortenedInTheRefusal()
    {
        string path = "/" + new string('x', 2000);

        var reply = Run(UserBodies.Add(path, "127.0.0.1:1"), new RouteStore());

        Assert.Equal(ControllerReply.Failure, reply.Res);
        Assert.Contains("(path \"/xxxx", reply.ErrString);
        Assert.Contains("...\"): path is longer than 1024 bytes", reply.ErrString);
        Assert.True(reply.ErrString!.Length < 200);
    }

    [Fact]
    public void FortyThousandUsers_InOneRequest_AreAllApplied()
    {
        var routes = new RouteStore();
        byte[] body = Encoding.UTF8.GetBytes(UserBodies.Add(40_000));
        Assert.InRange(body.Length, 1_500_000, ControllerLimits.DefaultMaxBodyBytes);

        var reply = CommandProcessor.Execute(body, routes);

        Assert.Equal(ControllerReply.Success, reply.Res);
        Assert.Equal(40_000, routes.Current.Count);
        Assert.True(routes.Current.TryGetUtf8("/path_39999"u8, out var last));
        Assert.Equal(10000 + 39999, last.Backend.Port);
    }
}
