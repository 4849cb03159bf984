using System.Net.Security;
using System.Runtime.InteropServices;
using Mtt.Core.Transport;
using Mtt.Core.Transport.OpenSsl;
using Mtt.Tests.Hardening;
using Mtt.Tests.Relay;
using Mtt.Tests.Support;
using Xunit.Abstractions;

namespace Mtt.Tests.Transport;

/// <summary>
/// The OpenSSL engine gives back what each connection took: its SSL object or record layer, its descriptor and its native memory,
/// whether the connection became a tunnel, was refused, or failed its handshake. Alone in its collection, since the
/// native heap it measures is the whole process's.
/// </summary>
[Collection(AllocationMeasurement.Name)]
public sealed partial class OpenSslLeakTests(ITestOutputHelper output)
{
    private const int Rounds = 1200;
    private const int AtOnce = 6;
    // A connection whose SSL object is never freed keeps 16 KiB of native heap (measured: 9.8 MiB over 600), its
    // record buffers more. Half of that per connection is the bar; the heap's own drift here is 1.4-2.4 MiB
    // whatever the count (600 or 1800 rounds), from the process's other OpenSSL users (the test's SslStream clients).
    private const long MaxHeapGrowth = 8 * 1024 * Rounds;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task ManyConnections_OpenedAndClosed_GiveBackTheirSessionsDescriptorsAndMemory()
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.Start(tls: true, engine: TlsEngine.OpenSsl);
        server.AddUser(AttackedServer.UserPath, backend.Address);
        var tls = new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetRawCertData().AsSpan().SequenceEqual(server.Certificate!.RawData),
        };

        // Warm: pools, the JIT, OpenSSL's per-thread state and its context.
        await ChurnAsync(server, tls, AtOnce * 10).WaitAsync(Bound);
        var before = Snapshot();

        await ChurnAsync(server, tls, Rounds).WaitAsync(Bound);
        var after = Snapshot();

        output.WriteLine($"sessions {before.Sessions} -> {after.Sessions}, descriptors {before.Descriptors} -> {after.Descriptors}, " +
            $"native heap {before.Heap / 1024} -> {after.Heap / 1024} KiB");
        Assert.Equal(0, after.Sessions);
        Assert.True(after.Descriptors <= before.Descriptors + 4, $"{after.Descriptors - before.Descriptors} descriptors more after {Rounds} connections");
        Assert.True(after.Heap - before.Heap < MaxHeapGrowth, $"the native heap grew by {(after.Heap - before.Heap) / 1024} KiB over {Rounds} connections");
    }

    /// <summary>Connections in every way a session can end: a tunnel closed cleanly, a refusal (404), a client gone mid-handshake.</summary>
    private static async Task ChurnAsync(TestServer server, SslClientAuthenticationOptions tls, int count)
    {
        for (int done = 0; done < count; done += AtOnce)
        {
            var batch = new Task[AtOnce];
            for (int i = 0; i < AtOnce; i++) batch[i] = OneAsync(server, tls, done + i);
            await Task.WhenAll(batch);
        }
        await server.Listener.WhenNoConnections();
    }

    private static async Task OneAsync(TestServer server, SslClientAuthenticationOptions tls, int index)
    {
        switch (index % 3)
        {
            case 0:
                await using (var client = await RawWebSocketClient.ConnectAsync(server.Port, server.Certificate))
                {
                    var (status, _) = await client.UpgradeAsync(AttackedServer.UserPath);
                    Assert.Equal(101, status);
                    await client.AssertEchoesThenClosesAsync("churn", AttackedServer.Bound);
                }
                break;
            case 1:
                await using (var client = await RawWebSocketClient.ConnectAsync(server.Port, server.Certificate))
                {
                    var (status, _) = await client.UpgradeAsync("/nobody");
                    Assert.Equal(404, status);
                }
                break;
            default:
                // Half a ClientHello, then gone.
                await using (var client = await RawWebSocketClient.ConnectAsync(server.Port))
                    await client.SendRawAsync(await CapturedClientHello.CaptureAsync() is var hello ? hello[..(hello.Length / 2)] : []);
                break;
        }
    }

    private static (int Sessions, int Descriptors, long Heap) Snapshot()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var heap = MallInfo2();
        return (OpenSslSession.Live + Tls13RecordStream.Live, Directory.GetFiles("/proc/self/fd").Length, (long)(heap.Uordblks + heap.Hblkhd));
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }

    // glibc 2.33+: the bytes malloc has handed out (in use, not freed), over every arena.
    [LibraryImport("libc", EntryPoint = "mallinfo2")]
    private static partial MallInfo MallInfo2();
}
