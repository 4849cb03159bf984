using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Mtt.Core.Upgrade;

namespace Mtt.Benchmarks;

/// <summary>Parsing the Go client's upgrade head: in one segment (the usual read) and split over three.</summary>
[MemoryDiagnoser]
public class UpgradeParserBenchmarks
{
    private const string GoClientHead =
        "GET /path_1 HTTP/1.1\r\n" +
        "Host: example.com\r\n" +
        "User-Agent: Go-http-client/1.1\r\n" +
        "Connection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        "Sec-WebSocket-Protocol: smux_off\r\n" +
        "Sec-WebSocket-Version: 13\r\n" +
        "Upgrade: websocket\r\n" +
        "\r\n";

    private ReadOnlySequence<byte> _singleSegment;
    private ReadOnlySequence<byte> _multiSegment;
    private ReadOnlySequence<byte> _incomplete;

    [GlobalSetup]
    public void Setup()
    {
        byte[] head = Encoding.ASCII.GetBytes(GoClientHead);
        _singleSegment = new ReadOnlySequence<byte>(head);
        _multiSegment = BenchmarkSegment.Split(head, 40, 150);
        _incomplete = new ReadOnlySequence<byte>(head, 0, head.Length - 2);
    }

    [Benchmark(Baseline = true)]
    public UpgradeParseResult SingleSegment() => UpgradeParser.Parse(_singleSegment);

    [Benchmark]
    public UpgradeParseResult MultiSegment() => UpgradeParser.Parse(_multiSegment);

    [Benchmark]
    public UpgradeParseResult Incomplete() => UpgradeParser.Parse(_incomplete);

    [Benchmark]
    public int ParseAndValidate() => UpgradeValidator.Validate(UpgradeParser.Parse(_singleSegment).Request!, out _);

    private sealed class BenchmarkSegment : ReadOnlySequenceSegment<byte>
    {
        private BenchmarkSegment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public static ReadOnlySequence<byte> Split(byte[] data, int firstCut, int secondCut)
        {
            var first = new BenchmarkSegment(data.AsMemory(0, firstCut), 0);
            var second = new BenchmarkSegment(data.AsMemory(firstCut, secondCut - firstCut), firstCut);
            var third = new BenchmarkSegment(data.AsMemory(secondCut), secondCut);
            first.Next = second;
            second.Next = third;
            return new ReadOnlySequence<byte>(first, 0, third, third.Memory.Length);
        }
    }
}
