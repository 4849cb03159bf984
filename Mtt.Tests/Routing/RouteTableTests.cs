using System.Text;
using Mtt.Core.Routing;
using Mtt.Core.Transport;

namespace Mtt.Tests.Routing;

public sealed class RouteTableTests
{
    private static Route RouteFor(string path, int port = 9000) => new(path, new BackendAddress("127.0.0.1", port));

    [Fact]
    public void NextTable_LeavesThePublishedOneUntouched()
    {
        var first = RouteTable.Empty.WithAdded([RouteFor("/a")]);
        var second = first.WithAdded([RouteFor("/b")]).WithRemoved(["/a"]);

        Assert.True(first.TryGet("/a", out _));
        Assert.False(first.TryGet("/b", out _));
        Assert.False(second.TryGet("/a", out _));
        Assert.True(second.TryGet("/b", out _));
        Assert.Equal(0, RouteTable.Empty.Count);
    }

    [Fact]
    public void AddingAnExistingPath_OverwritesItsBackend_AndUnknownDeletesAreIgnored()
    {
        var table = RouteTable.Empty.WithAdded([RouteFor("/a", 1)]).WithAdded([RouteFor("/a", 2)]).WithRemoved(["/nobody"]);
        Assert.Equal(1, table.Count);
        Assert.True(table.TryGet("/a", out var route));
        Assert.Equal(2, route.Backend.Port);
    }

    [Theory]
    [InlineData("/9f3c1e", true)]
    [InlineData("/9F3C1E", false)]
    [InlineData("/9f3c1e/", false)]
    [InlineData("/ключ", true)]
    public void Utf8Lookup_MatchesThePathExactly(string requested, bool found)
    {
        var table = RouteTable.Empty.WithAdded([RouteFor("/9f3c1e"), RouteFor("/ключ")]);
        Assert.Equal(found, table.TryGetUtf8(Encoding.UTF8.GetBytes(requested), out _));
    }

    [Fact]
    public void Utf8Lookup_MissesInvalidUtf8_AndOverlongPaths_WithoutThrowing()
    {
        var longPath = "/" + new string('a', RouteTable.MaxPathBytes);
        var table = RouteTable.Empty.WithAdded([RouteFor("/a")]);
        Assert.False(table.TryGetUtf8([(byte)'/', 0xC3, 0x28], out _));
        Assert.False(table.TryGetUtf8(Encoding.UTF8.GetBytes(longPath), out _));
    }
}
