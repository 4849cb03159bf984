using System.Net;
using System.Net.Sockets;

namespace Mtt.Tests.Support;

/// <summary>The load harness counts on the backend's open-connection signals to know when the server dialled or closed.</summary>
public sealed class EchoBackendTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task OpenConnections_AreSignalledAsTheyComeAndGo()
    {
        await using var backend = new EchoBackend();
        using var first = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var second = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await first.ConnectAsync(IPAddress.Loopback, backend.Port);
        await second.ConnectAsync(IPAddress.Loopback, backend.Port);

        Assert.True(await backend.WaitForActiveAtLeastAsync(2, Bound));
        Assert.False(await backend.WaitForActiveAtMostAsync(0, TimeSpan.Zero));

        first.Shutdown(SocketShutdown.Send);
        Assert.True(await backend.WaitForActiveAtMostAsync(1, Bound));
        second.Close();
        Assert.True(await backend.WaitForActiveAtMostAsync(0, Bound));
        Assert.Equal(2, backend.Accepted);
    }

    [Fact]
    public async Task AHeldConnection_StaysOpenUntilTheBackendIsDisposed()
    {
        var backend = new EchoBackend(echo: false);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, backend.Port);
        Assert.True(await backend.WaitForActiveAtLeastAsync(1, Bound));

        await backend.DisposeAsync();

        Assert.Equal(0, backend.Active);
        Assert.Equal(0, await client.ReceiveAsync(new byte[1], SocketFlags.None).WaitAsync(Bound));
    }
}
