using Mtt.Core.Mux;
using Mtt.Tests.Support;

namespace Mtt.Tests.Mux;

public sealed class SmuxFrameParserTests
{
    private readonly record struct Event(SmuxParseStatus Status, SmuxCommand Command, uint StreamId, byte[] Data, uint Consumed, uint Window);

    private static byte[] Frame(byte version, byte command, uint id, params byte[] data)
    {
        var frame = new byte[SmuxTestClient.HeaderSize + data.Length];
        SmuxTestClient.WriteHeader(frame, version, command, (ushort)data.Length, id);
        data.CopyTo(frame, SmuxTestClient.HeaderSize);
        return frame;
    }

    /// <summary>Feeds <paramref name="bytes"/> in pieces of <paramref name="piece"/> bytes, as a receive buffer would; PSH data is joined per frame.</summary>
    private static (List<Event> Events, SmuxProtocolError Error) ParseAll(byte[] bytes, int piece)
    {
        var parser = new SmuxFrameParser();
        var events = new List<Event>();
        int available = 0, position = 0;
        while (true)
        {
            var status = parser.Parse(bytes.AsSpan(position, available - position), out var header, out int consumed, out uint count, out uint window);
            Assert.InRange(consumed, 0, available - position);
            switch (status)
            {
                case SmuxParseStatus.NeedMoreData:
                    Assert.Equal(0, consumed);
                    if (available == bytes.Length) return (events, SmuxProtocolError.None);
                    available = Math.Min(bytes.Length, available + piece);
                    continue;
                case SmuxParseStatus.ProtocolError:
                    return (events, parser.Error);
                case SmuxParseStatus.Data:
                    var last = events[^1];
                    Assert.Equal(last.StreamId, header.StreamId);
                    events[^1] = last with { Data = [.. last.Data, .. bytes.AsSpan(position, consumed)] };
                    break;
                default:
                    events.Add(new Event(status, header.Command, header.StreamId, [], count, window));
                    break;
            }
            position += consumed;
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4096)]
    public void EveryCommand_IsParsed_WhateverPiecesTheBytesArriveIn(int piece)
    {
        var payload = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        byte[] bytes = [.. Frame(2, SmuxTestClient.Syn, 3), .. Frame(2, SmuxTestClient.Psh, 3, payload), .. Frame(2, SmuxTestClient.Nop, 0),
            .. Frame(2, SmuxTestClient.Upd, 3, 1, 0, 0, 0, 0, 0, 4, 0), .. Frame(2, SmuxTestClient.Psh, 3), .. Frame(2, SmuxTestClient.Fin, 3)];

        var (events, error) = ParseAll(bytes, piece);

        Assert.Equal(SmuxProtocolError.None, error);
        Assert.Equal([SmuxCommand.Syn, SmuxCommand.Psh, SmuxCommand.Nop, SmuxCommand.Upd, SmuxCommand.Psh, SmuxCommand.Fin], events.Select(e => e.Command));
        Assert.Equal(payload, events[1].Data);
        Assert.Equal(1u, events[3].Consumed);
        Assert.Equal(256u * 1024, events[3].Window);
        Assert.All(events, e => Assert.Equal(3u, e.Command == SmuxCommand.Nop ? 3u : e.StreamId));
    }

    [Fact]
    public void FirstFrame_FixesTheVersion_AndAnotherVersionLaterIsAnError()
    {
        var (events, error) = ParseAll([.. Frame(1, SmuxTestClient.Syn, 3), .. Frame(2, SmuxTestClient.Syn, 5)], 64);
        Assert.Single(events);
        Assert.Equal(SmuxProtocolError.VersionChanged, error);
    }

    [Theory]
    [InlineData(0, SmuxTestClient.Syn, 0, SmuxProtocolError.UnsupportedVersion)]
    [InlineData(3, SmuxTestClient.Syn, 0, SmuxProtocolError.UnsupportedVersion)]
    [InlineData(1, 5, 0, SmuxProtocolError.UnknownCommand)]
    [InlineData(1, 255, 0, SmuxProtocolError.UnknownCommand)]
    [InlineData(1, SmuxTestClient.Upd, 8, SmuxProtocolError.UnknownCommand)]
    [InlineData(2, SmuxTestClient.Upd, 4, SmuxProtocolError.InvalidLength)]
    [InlineData(1, SmuxTestClient.Syn, 1, SmuxProtocolError.InvalidLength)]
    [InlineData(2, SmuxTestClient.Nop, 2, SmuxProtocolError.InvalidLength)]
    public void BrokenFrames_AreProtocolErrors_AndStaySo(byte version, byte command, int length, SmuxProtocolError expected)
    {
        var bytes = Frame(version, command, 3, new byte[length]);
        var (_, error) = ParseAll(bytes, bytes.Length);
        Assert.Equal(expected, error);

        var parser = new SmuxFrameParser();
        parser.Parse(bytes, out _, out _, out _, out _);
        Assert.Equal(SmuxParseStatus.ProtocolError, parser.Parse(Frame(1, SmuxTestClient.Nop, 0), out _, out int consumed, out _, out _));
        Assert.Equal(0, consumed);
    }

    [Fact]
    public void RandomBytes_NeverThrow_AndNeverOverConsume()
    {
        var random = new Random(7);
        for (int round = 0; round < 2000; round++)
        {
            var bytes = new byte[random.Next(0, 200)];
            random.NextBytes(bytes);
            // Bias towards plausible headers so the parser gets past the first check often.
            if (bytes.Length > 1) bytes[0] = (byte)random.Next(0, 4);
            if (bytes.Length > 2) bytes[1] = (byte)random.Next(0, 6);
            var (_, _) = ParseAll(bytes, random.Next(1, 20));
        }
    }

    [Fact]
    public void ParsingFrames_AllocatesNothing()
    {
        byte[] bytes = [.. Frame(2, SmuxTestClient.Psh, 3, new byte[100]), .. Frame(2, SmuxTestClient.Upd, 3, new byte[8]), .. Frame(2, SmuxTestClient.Nop, 0)];
        static int ParseOnce(byte[] bytes)
        {
            var parser = new SmuxFrameParser();
            ReadOnlySpan<byte> input = bytes;
            int steps = 0;
            while (parser.Parse(input, out _, out int consumed, out _, out _) is SmuxParseStatus.Frame or SmuxParseStatus.Data)
            {
                input = input[consumed..];
                steps++;
            }
            return steps;
        }
        ParseOnce(bytes);

        long before = GC.GetAllocatedBytesForCurrentThread();
        int steps = 0;
        for (int i = 0; i < 1000; i++) steps += ParseOnce(bytes);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(4000, steps);
    }
}
