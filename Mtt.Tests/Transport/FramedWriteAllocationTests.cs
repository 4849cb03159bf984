using System.Buffers;
using System.Security.Authentication;
using Mtt.Core.Mux;
using Mtt.Core.Transport.OpenSsl;
using Mtt.Core.WebSockets;
using Mtt.Tests.Relay;
using Xunit.Abstractions;

namespace Mtt.Tests.Transport;

/// <summary>
/// The record layer's gathering write allocates nothing per write once warm: the cursor lives in the write's pooled
/// state machine and the send buffer is pooled. The count is the whole process's, so it includes the SslStream client.
/// </summary>
[Collection(AllocationMeasurement.Name)]
public sealed class FramedWriteAllocationTests(ITestOutputHelper output)
{
    private const int WarmUpWrites = 2_000;
    private const int MeasuredWrites = 2_000;
    // As OpenSslStreamAllocationTests: under one object per write; the runtime's pooled boxes and arrays stranded on
    // other threads come in bursts, so some window of the ten misses them.
    private const double MaxBytesPerWrite = 20.0;
    private const int Attempts = 10;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task GatheredSmuxTurns_InSteadyState_AllocateNothingPerWrite()
    {
        await using var pair = await RecordLayerPair.OpenAsync(SslProtocols.Tls13);
        var records = Assert.IsType<Tls13RecordStream>(pair.Server);
        // One smux turn: four PSH frames of the most data, each one binary message with its headers.
        var turn = new ReadOnlySequence<byte>(new byte[SmuxStream.MaxDataPerTurn]);
        var headers = new BinaryMessageHeaders<SmuxDataPrefix>(new SmuxDataPrefix(1, 3), SmuxStream.MaxFrameData);
        byte[] wire = new byte[SmuxStream.MaxFramesPerTurn * (4 + SmuxFrameHeader.Size + SmuxStream.MaxFrameData)];

        await WritesAsync(records, turn, headers, pair, wire, WarmUpWrites).WaitAsync(Bound);
        var perWrite = new List<double>(Attempts);
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            await WritesAsync(records, turn, headers, pair, wire, MeasuredWrites).WaitAsync(Bound);
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            perWrite.Add((double)allocated / MeasuredWrites);
            output.WriteLine($"{allocated} bytes over {MeasuredWrites} gathered turns: {perWrite[^1]:0.###} per write");
            if (perWrite[^1] < MaxBytesPerWrite) break;
        }
        Assert.True(perWrite[^1] < MaxBytesPerWrite,
            $"{string.Join(", ", perWrite.Select(b => $"{b:0.##}"))} bytes allocated per write over {perWrite.Count} runs (goal: under {MaxBytesPerWrite})");
    }

    private static async Task WritesAsync(Tls13RecordStream records, ReadOnlySequence<byte> turn, BinaryMessageHeaders<SmuxDataPrefix> headers,
        RecordLayerPair pair, byte[] wire, int count)
    {
        for (int i = 0; i < count; i++)
        {
            await records.WriteFramedAsync(turn, headers, CancellationToken.None);
            await pair.Client.ReadExactlyAsync(wire);
        }
    }
}
