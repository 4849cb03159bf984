using System.Text;
using Mtt.Core.Control.Commands;
using Mtt.Core.Control.State;
using Mtt.Core.Routing;
using Mtt.Tests.Support;

namespace Mtt.Tests.Control.State;

public sealed class UserStateFileTests
{
    private static ControllerReply Run(string json, RouteStore routes) => CommandProcessor.Execute(Encoding.UTF8.GetBytes(json), routes);

    private static Dictionary<string, (string Dst, string? Name)> Snapshot(RouteTable table)
    {
        var users = new Dictionary<string, (string, string?)>();
        foreach (var route in table.Routes) users[route.Path] = (route.Backend.ToString(), route.Name);
        return users;
    }

    [Fact]
    public void SavedTable_LoadsBackTheSame_WithNamesAndIpv6()
    {
        using var dir = new TemporaryDirectory();
        var file = new UserStateFile(dir.File("users.json"));
        var routes = new RouteStore(RouteTable.Empty, file.Save);
        Assert.Equal(ControllerReply.Success, Run("""{"opt":1,"args_bunch":[{"path":"/a","dst":"[::1]:443","name":"acct 1"},{"path":"/ü","dst":"backend.local:80"}]}""", routes).Res);

        var loaded = new UserStateFile(file.Path).Load(out bool existed);
        Assert.True(existed);
        Assert.Equal(Snapshot(routes.Current), Snapshot(loaded));
        Assert.False(File.Exists(file.Path + ".tmp"));
    }

    [Fact]
    public void MissingFile_IsAFirstStart_WithNoUsers()
    {
        using var dir = new TemporaryDirectory();
        var table = new UserStateFile(dir.File("none.json")).Load(out bool existed);
        Assert.False(existed);
        Assert.Equal(0, table.Count);
    }

    [Theory]
    [InlineData("", "is corrupt")]
    [InlineData("{\"version\":1,\"users\":[{\"path\":\"/a\",\"dst\":\"127.0.0.1:1\"}", "is corrupt")]
    [InlineData("[]", "is corrupt")]
    [InlineData("{\"version\":1}", "no \"users\" array")]
    [InlineData("{\"version\":2,\"users\":[]}", "version 2 is not 1")]
    [InlineData("{\"version\":1,\"users\":[{\"dst\":\"127.0.0.1:1\"}]}", "users[0] has no path")]
    [InlineData("{\"version\":1,\"users\":[{\"path\":\"a\",\"dst\":\"127.0.0.1:1\"}]}", "users[0]: path must start with '/'")]
    [InlineData("{\"version\":1,\"users\":[{\"path\":\"/a\",\"dst\":\"127.0.0.1:0\"}]}", "users[0]: dst port must be 1-65535")]
    [InlineData("{\"version\":1,\"users\":[{\"path\":\"/a\",\"dst\":\"127.0.0.1:1\",\"name\":\"a\\\"b\"}]}", "users[0]: name must be printable")]
    [InlineData("{\"version\":1,\"users\":[{\"path\":\"/a\",\"dst\":\"127.0.0.1:1\"},{\"path\":\"/a\",\"dst\":\"127.0.0.1:2\"}]}", "users[1]: the path is listed twice")]
    [InlineData("{\"version\":1,\"users\":[{\"path\":7,\"dst\":\"127.0.0.1:1\"}]}", "is corrupt")]
    public void CorruptFile_IsRefused_NamingTheFileAndTheReason(string content, string reason)
    {
        using var dir = new TemporaryDirectory();
        string path = dir.Write("users.json", content);
        var e = Assert.Throws<StateFileException>(() => new UserStateFile(path).Load(out _));
        Assert.Contains(path, e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void UnreadableFile_IsRefused()
    {
        using var dir = new TemporaryDirectory();
        // A directory where the file should be: reading it fails, as an unreadable file would.
        Directory.CreateDirectory(dir.File("users.json"));
        var e = Assert.Throws<StateFileException>(() => new UserStateFile(dir.File("users.json")).Load(out _));
        Assert.Contains("cannot read the state file", e.Message);
    }

    [Fact]
    public void ASaveThatFails_LeavesTheTableAndTheFileAsTheyWere()
    {
        using var dir = new TemporaryDirectory();
        var file = new UserStateFile(dir.File("users.json"));
        var routes = new RouteStore(RouteTable.Empty, file.Save);
        Assert.Equal(ControllerReply.Success, Run(UserBodies.Add("/a", "127.0.0.1:1"), routes).Res);
        routes.Current.TryGet("/a", out var a);
        string saved = File.ReadAllText(file.Path);

        // The temporary file's name taken by a directory: the write fails.
        Directory.CreateDirectory(file.Path + ".tmp");
        var reply = Run("""{"opt":2,"args_bunch":[{"path":"/a"}]}""", routes);
        Assert.Equal(ControllerReply.Failure, reply.Res);
        Assert.StartsWith("not applied: cannot save the state file " + file.Path, reply.ErrString);
        Assert.True(routes.Current.TryGet("/a", out var still));
        Assert.False(still.State.IsRevoked);
        Assert.Same(a.State, still.State);
        Assert.Equal(saved, File.ReadAllText(file.Path));
    }

    [Fact]
    public async Task ConcurrentChanges_TheFileAlwaysEndsAsTheLastPublishedTable()
    {
        using var dir = new TemporaryDirectory();
        var file = new UserStateFile(dir.File("users.json"));
        var routes = new RouteStore(RouteTable.Empty, file.Save);
        const int Writers = 6;
        const int ChangesEach = 40;
        var writers = new Task[Writers];
        for (int w = 0; w < Writers; w++)
        {
            int writer = w;
            writers[w] = Task.Run(() =>
            {
                for (int i = 0; i < ChangesEach; i++)
                {
                    string body = i % 3 == 2
                        ? $$"""{"opt":2,"args_bunch":[{"path":"/w{{writer}}-{{i - 1}}"}]}"""
                        : $$"""{"opt":1,"args_bunch":[{"path":"/w{{writer}}-{{i}}","dst":"127.0.0.1:{{1000 + i}}","name":"w{{writer}}"}]}""";
                    Assert.Equal(ControllerReply.Success, Run(body, routes).Res);
                }
            });
        }
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(60));

        var loaded = new UserStateFile(file.Path).Load(out _);
        Assert.Equal(Snapshot(routes.Current), Snapshot(loaded));
        // Each writer added 27 and removed 13 of them.
        Assert.Equal(Writers * 14, loaded.Count);
    }
}
