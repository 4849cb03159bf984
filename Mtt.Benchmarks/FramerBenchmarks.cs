using System.Buffers;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Mtt.Core.WebSockets;

namespace Mtt.Benchmarks;

/// <summary>
/// The WebSocket framer's hot path: decoding the 16 KiB masked binary frames the Go client sends
/// (header parse, unmask into the sink), the masking loop itself against a byte-at-a-time baseline, and the unmask
/// into the sink in one pass against a copy then an unmask.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class FramerBenchmarks
{
    // The Go client's smux frames carry at most 16 KiB, each written as one binary message.
    private const int FramePayloadBytes = 16 * 1024;
    private const int FramesPerBatch = 64;
    private const int MaskKey = 0x5A3C_9E71;

    private ReadOnlySequence<byte> _wire;
    private ArrayBufferWriter<byte> _sink = null!;
    private FrameDecoder _decoder = null!;
    private byte[] _kibibyte = null!;
    private byte[] _frameSource = null!;
    private byte[] _frameDestination = null!;

    [GlobalSetup]
    public void Setup()
    {
        var payload = new byte[FramePayloadBytes];
        new Random(1).NextBytes(payload);
        var wire = new ArrayBufferWriter<byte>();
        for (int i = 0; i < FramesPerBatch; i++) WriteMaskedBinaryFrame(wire, payload);
        _wire = new ReadOnlySequence<byte>(wire.WrittenMemory);
        _sink = new ArrayBufferWriter<byte>(FramePayloadBytes * FramesPerBatch);
        _decoder = new FrameDecoder();
        _kibibyte = new byte[1024];
        new Random(2).NextBytes(_kibibyte);
        _frameSource = new byte[FramePayloadBytes];
        new Random(3).NextBytes(_frameSource);
        _frameDestination = new byte[FramePayloadBytes];
    }

    [Benchmark(OperationsPerInvoke = FramesPerBatch)]
    [BenchmarkCategory("Decode16KiBFrame")]
    public int Decode16KiBMaskedBinaryFrame()
    {
        _sink.ResetWrittenCount();
        ReadOnlySequence<byte> buffer = _wire;
        DecodeResult result;
        do result = _decoder.Decode(ref buffer, _sink, int.MaxValue);
        while (result.Status != DecodeStatus.NeedMoreData);
        return _sink.WrittenCount;
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Mask1KiB")]
    public int MaskScalar1KiB()
    {
        Span<byte> data = _kibibyte;
        for (int i = 0; i < data.Length; i++)
            data[i] ^= (byte)((uint)MaskKey >> ((i & 3) * 8));
        return data.Length;
    }

    [Benchmark]
    [BenchmarkCategory("Mask1KiB")]
    public int MaskVectorised1KiB() => Masking.Apply(_kibibyte, MaskKey, 0);

    // How the decoder moved a frame's payload into the backend's buffer before: a copy, then an unmask in place.
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Unmask16KiBIntoSink")]
    public int CopyThenUnmask16KiB()
    {
        _frameSource.CopyTo(_frameDestination, 0);
        return Masking.Apply(_frameDestination, MaskKey, 0);
    }

    [Benchmark]
    [BenchmarkCategory("Unmask16KiBIntoSink")]
    public int UnmaskWhileCopying16KiB() => Masking.Apply(_frameSource, _frameDestination, MaskKey, 0);

    /// <summary>A client frame: FIN + binary, mask bit and 16-bit length, key, masked payload.</summary>
    private static void WriteMaskedBinaryFrame(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[FrameWriter.MaxHeaderLength + 4];
        int length = FrameWriter.WriteHeader(header, WebSocketOpcode.Binary, fin: true, payload.Length);
        header[1] |= 0x80;
        BitConverter.TryWriteBytes(header[length..], MaskKey);
        if (!BitConverter.IsLittleEndian) header.Slice(length, 4).Reverse();
        output.Write(header[..(length + 4)]);

        Span<byte> body = output.GetSpan(payload.Length)[..payload.Length];
        payload.CopyTo(body);
        Masking.Apply(body, MaskKey, 0);
        output.Advance(payload.Length);
    }
}
