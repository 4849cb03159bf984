using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Mtt.Core.Listening;
using Mtt.Core.Transport;

namespace Mtt.Tests.Transport;

/// <summary>A transport records how its connection ended, as the socket first reported it.</summary>
public sealed class TransportShutdownTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static async Task<(Socket Client, Socket Server)> ConnectedPairAsync(CancellationToken cancellationToken)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!, cancellationToken);
        return (client, await listener.AcceptAsync(cancellationToken));
    }

    private static async Task ReadToEndAsync(SocketTransport transport, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await transport.Input.ReadAsync(cancellationToken);
            transport.Input.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted) return;
        }
    }

    [Fact]
    public async Task APeerThatClosesCleanly_IsPeerClosed()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var (client, server) = await ConnectedPairAsync(cancel.Token);
        await using var transport = SocketTransport.CreatePlain(server);

        await client.SendAsync("bye"u8.ToArray(), cancel.Token);
        client.Shutdown(SocketShutdown.Send);
        await ReadToEndAsync(transport, cancel.Token);

        Assert.Equal(TransportShutdownKind.PeerClosed, transport.ShutdownKind);
        client.Dispose();
    }

    [Fact]
    public async Task APeerThatResets_IsAFailedReadWithItsSocketError()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var (client, server) = await ConnectedPairAsync(cancel.Token);
        await using var transport = SocketTransport.CreatePlain(server);

        // Linger 0: the close is a RST, as from a client whose process was killed mid-transfer on some stacks.
        client.LingerState = new LingerOption(true, 0);
        client.Close();
        await Assert.ThrowsAnyAsync<IOException>(() => ReadToEndAsync(transport, cancel.Token));

        Assert.Equal(TransportShutdownKind.ReadFailed, transport.ShutdownKind);
        Assert.Equal(SocketError.ConnectionReset, transport.ShutdownError);
    }

    [Fact]
    public async Task ATransportWeDispose_WhileThePeerIsThere_IsClosedByUs_AndALaterPeerEndDoesNotOverwriteIt()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var (client, server) = await ConnectedPairAsync(cancel.Token);
        using var _ = client;
        var transport = SocketTransport.CreatePlain(server);

        await transport.DisposeAsync();

        Assert.Equal(TransportShutdownKind.ClosedByUs, transport.ShutdownKind);
        Assert.Equal(0, await client.ReceiveAsync(new byte[1], cancel.Token));
        Assert.Equal(TransportShutdownKind.ClosedByUs, transport.ShutdownKind);
    }

    private static Task<SocketTransport> AcceptTlsAsync(TlsEngine engine, Socket server, SemaphoreSlim slots, CancellationToken cancellationToken) =>
        engine == TlsEngine.OpenSsl
            ? SocketTransport.CreateOpenSslAsync(server, SelfSignedCertificate.CreateContext("localhost"), slots, cancellationToken)
            : SocketTransport.CreateTlsAsync(server, SelfSignedCertificate.CreateContext("localhost"), slots, cancellationToken);

    [Theory]
    [MemberData(nameof(Support.TlsEngines.Both), MemberType = typeof(Support.TlsEngines))]
    public async Task UnderTls_APeerThatResets_IsReadFailedWithConnectionReset(TlsEngine engine)
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var (client, server) = await ConnectedPairAsync(cancel.Token);
        using var slots = new SemaphoreSlim(1);
        var accepting = AcceptTlsAsync(engine, server, slots, cancel.Token);
        var tls = new SslStream(new NetworkStream(client, ownsSocket: true));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", RemoteCertificateValidationCallback = static (_, _, _, _) => true }, cancel.Token);
        await using var transport = await accepting.WaitAsync(Timeout);
        await tls.WriteAsync("hello"u8.ToArray(), cancel.Token);
        var first = await transport.Input.ReadAsync(cancel.Token);
        transport.Input.AdvanceTo(first.Buffer.End);

        // An abortive close: RST instead of FIN.
        client.LingerState = new LingerOption(true, 0);
        client.Close();
        await Assert.ThrowsAnyAsync<IOException>(() => ReadToEndAsync(transport, cancel.Token));

        Assert.Equal(TransportShutdownKind.ReadFailed, transport.ShutdownKind);
        Assert.Equal(SocketError.ConnectionReset, transport.ShutdownError);
    }

    [Theory]
    [MemberData(nameof(Support.TlsEngines.Both), MemberType = typeof(Support.TlsEngines))]
    public async Task UnderTls_APeerThatSendsCloseNotifyAndFin_IsPeerClosed(TlsEngine engine)
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var (client, server) = await ConnectedPairAsync(cancel.Token);
        using var slots = new SemaphoreSlim(1);
        var accepting = AcceptTlsAsync(engine, server, slots, cancel.Token);
        await using (var tls = new SslStream(new NetworkStream(client, ownsSocket: true)))
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", RemoteCertificateValidationCallback = static (_, _, _, _) => true }, cancel.Token);
            var transport = await accepting.WaitAsync(Timeout);
            await tls.WriteAsync("hello"u8.ToArray(), cancel.Token);
            await tls.ShutdownAsync();
            client.Shutdown(SocketShutdown.Send);

            // The reader stops at the close_notify; the FIN behind it is seen when the transport is let go.
            await ReadToEndAsync(transport, cancel.Token);
            await transport.DisposeAsync();

            Assert.Equal(TransportShutdownKind.PeerClosed, transport.ShutdownKind);
        }
    }
}
