using System.Buffers;
using BenchmarkDotNet.Attributes;
using Mtt.Benchmarks.Relay;
using Mtt.Core.WebSockets;

namespace Mtt.Benchmarks;

/// <summary>
/// Frame-header parsing alone, apart from the payload's unmask and copy (<see cref="FramerBenchmarks"/>):
/// the decoder reads batches of masked binary frames that carry no payload, each header in one length
/// encoding, the 7-bit one (6 bytes with the key), 16-bit (8) and 64-bit (14). The decoder accepts a
/// longer encoding than a length needs (see its remarks), so the three differ only in the header read.
/// </summary>
[MemoryDiagnoser]
public class FrameHeaderBenchmarks
{
    private const int FramesPerBatch = 1024;
    private const int Length7 = 0, Length16Marker = 126, Length64Marker = 127;

    private ReadOnlySequence<byte> _length7;
    private ReadOnlySequence<byte> _length16;
    private ReadOnlySequence<byte> _length64;
    private readonly FrameDecoder _decoder = new();
    private readonly ArrayBufferWriter<byte> _sink = new(1);

    [GlobalSetup]
    public void Setup()
    {
        _length7 = Batch(Length7, extendedLengthBytes: 0);
        _length16 = Batch(Length16Marker, extendedLengthBytes: 2);
        _length64 = Batch(Length64Marker, extendedLengthBytes: 8);
        foreach (var batch in new[] { _length7, _length16, _length64 })
        {
            var buffer = batch;
            if (_decoder.Decode(ref buffer, _sink, int.MaxValue).Status != DecodeStatus.NeedMoreData || !buffer.IsEmpty)
                throw new InvalidOperationException("the batch did not decode whole");
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = FramesPerBatch)]
    public DecodeStatus Header7BitLength() => DecodeBatch(_length7);

    [Benchmark(OperationsPerInvoke = FramesPerBatch)]
    public DecodeStatus Header16BitLength() => DecodeBatch(_length16);

    [Benchmark(OperationsPerInvoke = FramesPerBatch)]
    public DecodeStatus Header64BitLength() => DecodeBatch(_length64);

    // One call reads every frame of the batch: a data frame's header is consumed and, with no payload, the next one follows.
    private DecodeStatus DecodeBatch(ReadOnlySequence<byte> batch) => _decoder.Decode(ref batch, _sink, int.MaxValue).Status;

    private static ReadOnlySequence<byte> Batch(int length7, int extendedLengthBytes)
    {
        var wire = new ArrayBufferWriter<byte>();
        Span<byte> header = stackalloc byte[MaskedClientFrame.MaxHeaderLength];
        header.Clear();
        header[0] = 0x80 | (byte)WebSocketOpcode.Binary;
        header[1] = (byte)length7;
        int length = MaskedClientFrame.WithMask(header, 2 + extendedLengthBytes);
        for (int i = 0; i < FramesPerBatch; i++) wire.Write(header[..length]);
        return new ReadOnlySequence<byte>(wire.WrittenMemory);
    }
}
