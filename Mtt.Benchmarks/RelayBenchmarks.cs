using BenchmarkDotNet.Attributes;
using Mtt.Benchmarks.Relay;
using Mtt.Core.Mux;

namespace Mtt.Benchmarks;

/// <summary>
/// The steady-state relay, per message: one binary message from an in-memory client through the server's
/// real tunnel (or smux session and stream) to an echo backend on loopback and back, one message in flight.
/// The goal is Allocated = 0 B: nothing on the per-message path allocates, so the figure counts every
/// thread (the memory diagnoser reads the process's total) and still shows 0.
/// </summary>
[MemoryDiagnoser]
public class RelayBenchmarks
{
    private const int MessagesPerInvoke = 64;

    private IRelayRig _plain = null!;
    private IRelayRig _smuxV1 = null!;
    private IRelayRig _smuxV2 = null!;

    /// <summary>Client data per message: a small request, and a full 16 KiB smux frame as mtt-client writes them.</summary>
    [Params(64, 16 * 1024)]
    public int MessageBytes { get; set; }

    [GlobalSetup(Target = nameof(PlainTunnel))]
    public async Task SetupPlain() => _plain = await PlainTunnelRig.StartAsync(MessageBytes);

    [GlobalSetup(Target = nameof(SmuxStreamV1))]
    public async Task SetupSmuxV1() => _smuxV1 = await SmuxStreamRig.StartAsync(MessageBytes, SmuxFrameHeader.Version1);

    [GlobalSetup(Target = nameof(SmuxStreamV2))]
    public async Task SetupSmuxV2() => _smuxV2 = await SmuxStreamRig.StartAsync(MessageBytes, SmuxFrameHeader.Version2);

    [Benchmark(OperationsPerInvoke = MessagesPerInvoke)]
    public ValueTask PlainTunnel() => _plain.EchoAsync(MessagesPerInvoke);

    [Benchmark(OperationsPerInvoke = MessagesPerInvoke)]
    public ValueTask SmuxStreamV1() => _smuxV1.EchoAsync(MessagesPerInvoke);

    [Benchmark(OperationsPerInvoke = MessagesPerInvoke)]
    public ValueTask SmuxStreamV2() => _smuxV2.EchoAsync(MessagesPerInvoke);

    [GlobalCleanup]
    public async Task Cleanup()
    {
        foreach (var rig in new[] { _plain, _smuxV1, _smuxV2 })
            if (rig is not null) await rig.DisposeAsync();
    }
}
