using System.Net.Sockets;
using System.Runtime.Versioning;
using Mtt.Core.Listening;
using Mtt.Tests.Support;

namespace Mtt.Tests.Listening;

/// <summary>-bind-unix's socket file: only a stale socket is ever removed to make way.</summary>
[UnsupportedOSPlatform("windows")]
public sealed class UnixSocketFileTests
{
    private static Socket Bound(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    /// <summary>A socket file nobody listens on, as a crashed server leaves behind.</summary>
    private static void MakeStaleSocket(string path)
    {
        // .NET deletes the file of a socket it bound when it is disposed; moved away first, the file survives.
        string bound = path + ".bound";
        using var socket = Bound(bound);
        File.Move(bound, path);
    }

    [Fact]
    public void NothingThere_IsFine()
    {
        using var directory = new TemporaryDirectory();
        UnixSocketFile.PrepareForBind(directory.File("t.sock"));
        Assert.Equal(UnixPathKind.Missing, UnixSocketFile.Inspect(directory.File("t.sock")));
    }

    [Fact]
    public void StaleSocket_NobodyListening_IsRemoved()
    {
        using var directory = new TemporaryDirectory();
        string path = directory.File("t.sock");
        MakeStaleSocket(path);
        Assert.Equal(UnixPathKind.Socket, UnixSocketFile.Inspect(path));

        UnixSocketFile.PrepareForBind(path);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void LiveSocket_IsRefused_AndLeftAlone()
    {
        using var directory = new TemporaryDirectory();
        string path = directory.File("t.sock");
        using var live = Bound(path);
        live.Listen(1);

        var refused = Assert.Throws<IOException>(() => UnixSocketFile.PrepareForBind(path));
        Assert.Contains("another process is listening", refused.Message);
        Assert.Equal(UnixPathKind.Socket, UnixSocketFile.Inspect(path));
    }

    [Fact]
    public void RegularFile_IsRefused_AndKeepsItsContent()
    {
        using var directory = new TemporaryDirectory();
        string path = directory.Write("t.sock", "precious");

        var refused = Assert.Throws<IOException>(() => UnixSocketFile.PrepareForBind(path));
        Assert.Contains("is not a socket", refused.Message);
        Assert.Equal("precious", File.ReadAllText(path));
        UnixSocketFile.Remove(path);
        Assert.Equal("precious", File.ReadAllText(path));
    }

    [Fact]
    public void LinkToAStaleSocket_IsNotASocket_AndIsRefused()
    {
        using var directory = new TemporaryDirectory();
        string target = directory.File("real.sock");
        MakeStaleSocket(target);
        string link = directory.File("link.sock");
        File.CreateSymbolicLink(link, target);

        Assert.Equal(UnixPathKind.NotSocket, UnixSocketFile.Inspect(link));
        Assert.Throws<IOException>(() => UnixSocketFile.PrepareForBind(link));
        Assert.True(File.Exists(target));
    }

    [Fact]
    public async Task Listener_OpensTheSocketToEveryone_AndRemovesItWhenDisposed()
    {
        using var directory = new TemporaryDirectory();
        string path = directory.File("t.sock");
        var listener = new TunnelListener(new TunnelServerOptions { Bind = new UnixDomainSocketEndPoint(path) }, new Mtt.Core.Routing.RouteStore(), Mtt.Core.Diagnostics.ServerLog.Silent);
        listener.Start();
        Assert.Equal(UnixSocketFile.Mode, File.GetUnixFileMode(path));
        Assert.Throws<InvalidOperationException>(() => listener.LocalEndPoint);

        await listener.DisposeAsync();
        Assert.Equal(UnixPathKind.Missing, UnixSocketFile.Inspect(path));
    }
}
