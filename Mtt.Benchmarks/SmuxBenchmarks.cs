using BenchmarkDotNet.Attributes;
using Mtt.Core.Mux;

namespace Mtt.Benchmarks;

/// <summary>
/// The smux parser over 1 MiB of client traffic: 16 KiB PSH frames (bulk, as mtt-client writes them)
/// and 64-byte PSH frames (small requests), spread over 16 streams. Goal: no allocation, and well above
/// the network's speed.
/// </summary>
[MemoryDiagnoser]
public class SmuxBenchmarks
{
    private const int TrafficBytes = 1024 * 1024;

    private byte[] _bulk = [];
    private byte[] _small = [];

    [GlobalSetup]
    public void Setup()
    {
        _bulk = Build(16 * 1024);
        _small = Build(64);
    }

    private static byte[] Build(int dataPerFrame)
    {
        var traffic = new MemoryStream();
        var header = new byte[SmuxFrameHeader.Size];
        var data = new byte[dataPerFrame];
        for (uint i = 0; traffic.Length < TrafficBytes; i++)
        {
            new SmuxFrameHeader(1, SmuxCommand.Psh, (ushort)dataPerFrame, 3 + 2 * (i % 16)).Write(header);
            traffic.Write(header);
            traffic.Write(data);
        }
        return traffic.ToArray();
    }

    [Benchmark]
    public long ParseBulkFrames() => Parse(_bulk);

    [Benchmark]
    public long ParseSmallFrames() => Parse(_small);

    private static long Parse(byte[] traffic)
    {
        var parser = new SmuxFrameParser();
        ReadOnlySpan<byte> input = traffic;
        long data = 0;
        while (true)
        {
            var status = parser.Parse(input, out _, out int consumed, out _, out _);
            if (status is SmuxParseStatus.NeedMoreData or SmuxParseStatus.ProtocolError) return data;
            if (status == SmuxParseStatus.Data) data += consumed;
            input = input[consumed..];
        }
    }
}
