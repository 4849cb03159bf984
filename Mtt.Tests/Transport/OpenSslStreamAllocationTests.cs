using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Mtt.Core.Listening;
using Mtt.Core.Transport;
using Mtt.Core.Transport.OpenSsl;
using Mtt.Tests.Relay;
using Xunit.Abstractions;

namespace Mtt.Tests.Transport;

/// <summary>
/// The OpenSSL engine's stream allocates nothing per record once warm: a read that finds records decrypts them
/// synchronously, a read that waits reuses its pooled state machine, a write encrypts into a pooled buffer. The count
/// is the whole process's, so it includes the SslStream client on the other end.
/// </summary>
[Collection(AllocationMeasurement.Name)]
public sealed class OpenSslStreamAllocationTests(ITestOutputHelper output)
{
    private const int RecordBytes = 16 * 1024;
    private const int WarmUpRoundTrips = 2_000;
    private const int MeasuredRoundTrips = 2_000;
    // As SteadyStateRelayAllocationTests: under one object per round trip; the runtime's pooled boxes and arrays
    // stranded on other threads come in bursts, so some window of the ten misses them.
    private const double MaxBytesPerRoundTrip = 20.0;
    private const int Attempts = 10;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task EchoedRecords_InSteadyState_AllocateNothingPerRecord()
    {
        using var certificate = SelfSignedCertificate.Create("localhost");
        var context = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true);
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        using var accepted = await listener.AcceptAsync();

        var serverSide = OpenSslHandshake.AcceptAsync(accepted, context, handshakeSlots: null, new ShutdownRecord(), CancellationToken.None);
        await using var tls = new SslStream(new NetworkStream(client, ownsSocket: false));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        }).WaitAsync(Bound);
        await using var server = await serverSide.WaitAsync(Bound);

        byte[] sent = new byte[RecordBytes];
        new Random(7).NextBytes(sent);
        byte[] clientBuffer = new byte[RecordBytes];
        var echo = RecordLayerPair.Echo(server);

        await RoundTripsAsync(tls, sent, clientBuffer, WarmUpRoundTrips).WaitAsync(Bound);
        var perRoundTrip = new List<double>(Attempts);
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            await RoundTripsAsync(tls, sent, clientBuffer, MeasuredRoundTrips).WaitAsync(Bound);
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            perRoundTrip.Add((double)allocated / MeasuredRoundTrips);
            output.WriteLine($"{allocated} bytes over {MeasuredRoundTrips} round trips of {RecordBytes} bytes: {perRoundTrip[^1]:0.###} per round trip");
            if (perRoundTrip[^1] < MaxBytesPerRoundTrip) break;
        }
        Assert.Equal(clientBuffer, sent);
        client.Shutdown(SocketShutdown.Send);
        Assert.Equal(WarmUpRoundTrips * RecordBytes + perRoundTrip.Count * MeasuredRoundTrips * RecordBytes, await echo.WaitAsync(Bound));
        Assert.True(perRoundTrip[^1] < MaxBytesPerRoundTrip,
            $"{string.Join(", ", perRoundTrip.Select(b => $"{b:0.##}"))} bytes allocated per round trip over {perRoundTrip.Count} runs (goal: under {MaxBytesPerRoundTrip})");
    }

    private static async Task RoundTripsAsync(SslStream tls, byte[] sent, byte[] received, int count)
    {
        for (int i = 0; i < count; i++)
        {
            await tls.WriteAsync(sent);
            await tls.ReadExactlyAsync(received);
        }
    }
}
