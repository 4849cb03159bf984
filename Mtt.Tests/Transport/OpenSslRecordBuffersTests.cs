using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Mtt.Core.Listening;
using Mtt.Core.Transport;

namespace Mtt.Tests.Transport;

public sealed class OpenSslRecordBuffersTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ReleasesTheBuffersOfAnIdleConnectionWhichThenStillCarriesDataBothWays()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var cancel = new CancellationTokenSource(Timeout);
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port, cancel.Token);
        using var accepted = await listener.AcceptTcpClientAsync(cancel.Token);
        await using var server = new SslStream(accepted.GetStream());
        await using var tls = new SslStream(client.GetStream());
        await Task.WhenAll(
            server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificateContext = SelfSignedCertificate.CreateContext("localhost") }, cancel.Token),
            tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", RemoteCertificateValidationCallback = static (_, _, _, _) => true }, cancel.Token))
            .WaitAsync(Timeout);
        await EchoAsync(tls, server, 1, cancel.Token);

        // Linux with OpenSSL is where this matters (and the only place it runs: CI and deployment).
        Assert.False(OpenSslRecordBuffers.ReleasesWhenEmpty(server));
        Assert.True(OpenSslRecordBuffers.TryRelease(server));
        // From then on OpenSSL frees the buffers itself whenever they are empty (an smux session's later SYNs), and
        // records still go both ways, many of them at once too.
        Assert.True(OpenSslRecordBuffers.ReleasesWhenEmpty(server));
        await EchoAsync(tls, server, 2, cancel.Token);
        await EchoAsync(server, tls, 5, cancel.Token, 300_000);
        await EchoAsync(tls, server, 6, cancel.Token, 300_000);
        await EchoAsync(server, tls, 3, cancel.Token);
        Assert.True(OpenSslRecordBuffers.TryRelease(server));
        await EchoAsync(server, tls, 4, cancel.Token);
    }

    private static async Task EchoAsync(SslStream from, SslStream to, byte value, CancellationToken cancellationToken, int length = 20_000)
    {
        var sent = Enumerable.Repeat(value, length).ToArray();
        var writing = from.WriteAsync(sent, cancellationToken).AsTask();
        var received = new byte[sent.Length];
        await to.ReadExactlyAsync(received, cancellationToken).AsTask().WaitAsync(Timeout);
        await writing.WaitAsync(Timeout);
        Assert.Equal(sent, received);
    }
}
