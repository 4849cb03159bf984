using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Threading.Channels;
using Mtt.Core.Transport.OpenSsl;
using Mtt.Tests.Support;

namespace Mtt.Tests.Transport;

/// <summary>
/// A client that stops inside a record (a header sent, or part of a record, then nothing) costs the server only the
/// bytes it sent while it waits, never the 64 KiB a receive takes while bytes flow; when the rest comes, the record
/// arrives whole. 5,000 such clients held 320 MiB before.
/// </summary>
public sealed class Tls13RecordStallTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private const int LargeReceiveBuffer = 64 * 1024;
    private const int DataLength = 1000;

    [Theory]
    // A header and one byte of the record, then the rest.
    [InlineData(new[] { 6 })]
    // The header split in two, then most of the record.
    [InlineData(new[] { 2, 700 })]
    // The header alone.
    [InlineData(new[] { 5 })]
    public async Task ClientStalledInsideARecord_HoldsOnlyWhatItSent_ThenTheRecordArrivesWhole(int[] cuts)
    {
        await using var listener = new RecordLayerListener();
        using var clientSocket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await clientSocket.ConnectAsync(IPAddress.Loopback, listener.Port);
        var serverSide = listener.AcceptAsync();
        var capturing = new CapturingStream(new NetworkStream(clientSocket, ownsSocket: false));
        await using var client = new SslStream(capturing);
        await client.AuthenticateAsClientAsync(TlsClients.Pinned(listener.Certificate, SslProtocols.Tls13)).WaitAsync(Bound);
        await using var server = Assert.IsType<Tls13RecordStream>(await serverSide.WaitAsync(Bound));
        var waits = WatchWaits(server);
        var echo = RecordLayerPair.Echo(server);

        byte[] sent = new byte[DataLength];
        new Random(cuts.Length).NextBytes(sent);
        capturing.CaptureFromNow();
        await client.WriteAsync(sent).AsTask().WaitAsync(Bound);
        byte[] record = capturing.TakeCaptured();
        Assert.True(record.Length > DataLength, "one record");

        int offset = 0;
        foreach (int cut in cuts)
        {
            await clientSocket.SendAsync(record.AsMemory(offset, cut - offset));
            offset = cut;
            var held = await WaitHoldingAsync(waits, offset);
            Assert.True(held.Buffer < LargeReceiveBuffer && held.Buffer <= Math.Max(16, 2 * offset),
                $"waiting with {offset} bytes of a record, the server held a buffer of {held.Buffer} bytes");
        }
        await clientSocket.SendAsync(record.AsMemory(offset));
        byte[] received = new byte[sent.Length];
        await client.ReadExactlyAsync(received).AsTask().WaitAsync(Bound);
        Assert.Equal(sent, received);
        Assert.False(echo.IsFaulted);
    }

    [Fact]
    public async Task ClientStalledInsideItsFirstRecord_ArrivingWithItsFinished_HoldsOnlyWhatItSent()
    {
        // The client's Finished and the start of its first record in one segment: the hand-off's unread bytes are part of a record.
        await using var listener = new RecordLayerListener();
        using var clientSocket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await clientSocket.ConnectAsync(IPAddress.Loopback, listener.Port);
        var serverSide = listener.AcceptAsync();
        // The ClientHello goes; the Finished and the record are kept.
        var capturing = new CapturingStream(new NetworkStream(clientSocket, ownsSocket: false), passed: 1);
        await using var client = new SslStream(capturing);
        await client.AuthenticateAsClientAsync(TlsClients.Pinned(listener.Certificate, SslProtocols.Tls13)).WaitAsync(Bound);
        byte[] finished = capturing.TakeCaptured();
        byte[] sent = new byte[DataLength];
        new Random(1).NextBytes(sent);
        await client.WriteAsync(sent).AsTask().WaitAsync(Bound);
        byte[] record = capturing.TakeCaptured();
        const int Cut = 6;
        await clientSocket.SendAsync((byte[])[.. finished, .. record.AsSpan(0, Cut)]);

        await using var server = Assert.IsType<Tls13RecordStream>(await serverSide.WaitAsync(Bound));
        Assert.Equal(Cut, server.UnopenedBytes);
        Assert.True(server.ReceiveBufferLength < LargeReceiveBuffer, $"the hand-off's {Cut} bytes are held in a buffer of {server.ReceiveBufferLength} bytes");
        var waits = WatchWaits(server);
        var echo = RecordLayerPair.Echo(server);
        var held = await WaitHoldingAsync(waits, Cut);
        Assert.True(held.Buffer <= 16, $"waiting with {Cut} bytes of a record, the server held a buffer of {held.Buffer} bytes");

        await clientSocket.SendAsync(record.AsMemory(Cut));
        byte[] received = new byte[sent.Length];
        await client.ReadExactlyAsync(received).AsTask().WaitAsync(Bound);
        Assert.Equal(sent, received);
        Assert.False(echo.IsFaulted);
    }

    private readonly record struct Held(int Bytes, int Buffer);

    // What the server held each time a read started waiting for the client, as it did.
    private static ChannelReader<Held> WatchWaits(Tls13RecordStream server)
    {
        var waits = Channel.CreateUnbounded<Held>();
        server.WaitingForClient = () => waits.Writer.TryWrite(new Held(server.UnopenedBytes, server.ReceiveBufferLength));
        return waits.Reader;
    }

    private static async Task<Held> WaitHoldingAsync(ChannelReader<Held> waits, int bytes)
    {
        using var bound = new CancellationTokenSource(Bound);
        while (true)
        {
            var held = await waits.ReadAsync(bound.Token);
            if (held.Bytes == bytes) return held;
        }
    }
}
