using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Mtt.Core.Listening;
using Mtt.Core.Transport;
using Mtt.Core.Transport.OpenSsl;
using Mtt.Tests.Support;

namespace Mtt.Tests.Transport;

/// <summary>
/// After OpenSSL's handshake a TLS 1.3 connection's records are the engine's own (<see cref="Tls13RecordStream"/>):
/// what a client sends arrives byte-exact whatever the sizes, the server's key moves on when it has protected its
/// share, and a forged, oversized or unexpected record ends the connection with an alert instead of a hang. A TLS 1.2
/// client stays with OpenSSL's record layer.
/// </summary>
public sealed class Tls13RecordLayerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Tls13Client_GetsTheRecordLayer_AndEveryByteBackWhateverTheWriteSizes()
    {
        await using var pair = await RecordLayerPair.OpenAsync();
        Assert.IsType<Tls13RecordStream>(pair.Server);
        Assert.Equal(SslProtocols.Tls13, pair.Client.SslProtocol);
        var echo = pair.EchoAsync();

        var random = new Random(14);
        foreach (int size in (int[])[1, 5, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 70_000, 300_000])
        {
            byte[] sent = new byte[size];
            random.NextBytes(sent);
            await pair.Client.WriteAsync(sent).AsTask().WaitAsync(Bound);
            byte[] received = new byte[size];
            await pair.Client.ReadExactlyAsync(received).AsTask().WaitAsync(Bound);
            Assert.Equal(sent, received);
        }
        await pair.Client.ShutdownAsync().WaitAsync(Bound);
        // The client's close_notify is the end of what it sends.
        Assert.True(await echo.WaitAsync(Bound) > 0);
    }

    [Theory]
    [InlineData(TlsCipherSuite.TLS_AES_128_GCM_SHA256)]
    [InlineData(TlsCipherSuite.TLS_AES_256_GCM_SHA384)]
    [InlineData(TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256)]
    public async Task EverySuiteAClientMayChoose_IsProtectedByTheRecordLayer(TlsCipherSuite suite)
    {
        await using var pair = await RecordLayerPair.OpenAsync(suites: suite);
        Assert.IsType<Tls13RecordStream>(pair.Server);
        Assert.Equal(suite, pair.Client.NegotiatedCipherSuite);
        var echo = pair.EchoAsync();
        byte[] sent = new byte[100_000];
        new Random((int)suite).NextBytes(sent);
        await pair.Client.WriteAsync(sent).AsTask().WaitAsync(Bound);
        byte[] received = new byte[sent.Length];
        await pair.Client.ReadExactlyAsync(received).AsTask().WaitAsync(Bound);
        Assert.Equal(sent, received);
    }

    [Theory]
    // The order OpenSSL's clients offer by default (.NET's and Node's among them): AES-256 first.
    [InlineData(new[] { TlsCipherSuite.TLS_AES_256_GCM_SHA384, TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256, TlsCipherSuite.TLS_AES_128_GCM_SHA256 }, TlsCipherSuite.TLS_AES_128_GCM_SHA256)]
    [InlineData(new[] { TlsCipherSuite.TLS_AES_256_GCM_SHA384, TlsCipherSuite.TLS_AES_128_GCM_SHA256 }, TlsCipherSuite.TLS_AES_128_GCM_SHA256)]
    // A client without AES instructions lists ChaCha20 first, and gets it, as from the Go original.
    [InlineData(new[] { TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256, TlsCipherSuite.TLS_AES_128_GCM_SHA256, TlsCipherSuite.TLS_AES_256_GCM_SHA384 }, TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256)]
    public async Task TheServersOrderPicksTheSuite_AesGcm128First_UnlessTheClientPutsChaChaFirst(TlsCipherSuite[] offered, TlsCipherSuite agreed)
    {
        await using var pair = await RecordLayerPair.OpenAsync(suites: offered);
        Assert.Equal(agreed, pair.Client.NegotiatedCipherSuite);
    }

    [Fact]
    public async Task DataArrivingWithTheClientsFinished_IsReadByTheRecordLayer()
    {
        // The client's Finished and its first record reach the server in one segment, as a browser's request often
        // does: OpenSSL received the record but must not have read it, and the record layer starts with it.
        await using var listener = new RecordLayerListener();
        using var clientSocket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await clientSocket.ConnectAsync(IPAddress.Loopback, listener.Port);
        var serverSide = listener.AcceptAsync();
        var holding = new HoldingStream(new NetworkStream(clientSocket, ownsSocket: false));
        await using var client = new SslStream(holding);
        await client.AuthenticateAsClientAsync(TlsClients.Pinned(listener.Certificate, SslProtocols.Tls13)).WaitAsync(Bound);
        byte[] sent = "sent with the Finished"u8.ToArray();
        await client.WriteAsync(sent).AsTask().WaitAsync(Bound);
        await holding.ReleaseAsync();

        await using var server = await serverSide.WaitAsync(Bound);
        Assert.IsType<Tls13RecordStream>(server);
        byte[] received = new byte[sent.Length];
        await server.ReadExactlyAsync(received).AsTask().WaitAsync(Bound);
        Assert.Equal(sent, received);
    }

    [Fact]
    public async Task Tls12Client_StaysWithOpenSslsRecordLayer()
    {
        await using var pair = await RecordLayerPair.OpenAsync(SslProtocols.Tls12);
        Assert.IsType<OpenSslStream>(pair.Server);
        var echo = pair.EchoAsync();
        byte[] sent = "over TLS 1.2"u8.ToArray();
        await pair.Client.WriteAsync(sent).AsTask().WaitAsync(Bound);
        byte[] received = new byte[sent.Length];
        await pair.Client.ReadExactlyAsync(received).AsTask().WaitAsync(Bound);
        Assert.Equal(sent, received);
    }

    [Fact]
    public async Task ServerKey_ProtectsOnlyItsShareOfRecords_ThenTheClientReadsOnUnderTheNext()
    {
        // Three records per key: 40 records of echo cross a dozen KeyUpdates the client must follow.
        await using var pair = await RecordLayerPair.OpenAsync(recordsPerKey: 3);
        var echo = pair.EchoAsync();
        byte[] sent = new byte[40 * 16 * 1024];
        new Random(3).NextBytes(sent);
        var writing = pair.Client.WriteAsync(sent).AsTask();
        byte[] received = new byte[sent.Length];
        await pair.Client.ReadExactlyAsync(received).AsTask().WaitAsync(Bound);
        await writing.WaitAsync(Bound);
        Assert.Equal(sent, received);
        Assert.InRange(((Tls13RecordStream)pair.Server).KeyUpdatesSent, 12, 14);
    }

    [Theory]
    [InlineData("k", false)]
    [InlineData("K", true)]
    public async Task ClientKeyUpdate_IsFollowed_AndAnsweredWhenAskedFor(string command, bool requested)
    {
        // OpenSSL's own client: its k command updates its key, K also asks the server to update its own.
        await using var server = await RecordLayerPair.ListenAsync();
        using var client = OpenSslClientProcess.Create(server.Port, "-tls1_3");
        var lines = new LineWaiter();
        var updated = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.OutputDataReceived += (_, e) => lines.Add(e.Data);
        client.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is "KEYUPDATE") updated.TrySetResult();
        };
        client.Start();
        try
        {
            client.BeginOutputReadLine();
            client.BeginErrorReadLine();
            await using var accepted = await server.AcceptAsync().WaitAsync(Bound);
            Assert.IsType<Tls13RecordStream>(accepted);
            var echo = RecordLayerPair.Echo(accepted);

            await client.StandardInput.WriteLineAsync("before the update");
            await lines.WaitForAsync("before the update").WaitAsync(Bound);
            await client.StandardInput.WriteLineAsync(command);
            await updated.Task.WaitAsync(Bound);
            // Echoed under the server's next key when the client asked for it: s_client reads it only if the server
            // followed (and, for K, sent its own KeyUpdate first).
            await client.StandardInput.WriteLineAsync("after the update");
            await lines.WaitForAsync("after the update").WaitAsync(Bound);
            Assert.False(echo.IsFaulted, requested ? "after K" : "after k");
            // The client cannot tell whether the server answered K (its own key reads on either way): the server says.
            Assert.Equal(requested ? 1 : 0, ((Tls13RecordStream)accepted).KeyUpdatesSent);
        }
        finally
        {
            if (!client.HasExited) client.Kill();
        }
    }

    [Fact]
    public async Task ForgedRecord_EndsTheConnection_WithBadRecordMac()
    {
        await using var pair = await RecordLayerPair.OpenAsync();
        var echo = pair.EchoAsync();
        // A record whose tag cannot match: the header of a 40-byte record, then 40 bytes of noise.
        byte[] forged = new byte[5 + 40];
        forged[0] = 23;
        forged[1] = 3;
        forged[2] = 3;
        BinaryPrimitives.WriteUInt16BigEndian(forged.AsSpan(3), 40);
        await pair.ClientSocket.SendAsync(forged);

        var failure = await Assert.ThrowsAsync<IOException>(() => echo.WaitAsync(Bound));
        Assert.Contains("failed authentication", failure.Message);
        // The alert reaches the client, whose next read fails rather than waiting.
        await Assert.ThrowsAnyAsync<Exception>(async () => await pair.Client.ReadAsync(new byte[1]).AsTask().WaitAsync(Bound));
    }

    [Theory]
    [InlineData(23, 16 * 1024 + 257, "a record of 16641 bytes")]
    [InlineData(22, 40, "a record of type 22 after the handshake")]
    [InlineData(23, 16, "a record of 16 bytes")]
    public async Task MalformedRecordHeader_EndsTheConnection_BeforeAnythingIsBuffered(byte type, int length, string reason)
    {
        await using var pair = await RecordLayerPair.OpenAsync();
        var echo = pair.EchoAsync();
        byte[] header = [type, 3, 3, (byte)(length >> 8), (byte)length];
        await pair.ClientSocket.SendAsync(header);

        var failure = await Assert.ThrowsAsync<IOException>(() => echo.WaitAsync(Bound));
        Assert.Contains(reason, failure.Message);
    }
}
