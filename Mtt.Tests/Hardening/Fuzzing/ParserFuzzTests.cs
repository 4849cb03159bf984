using System.Buffers;
using System.Net;
using System.Text;
using Mtt.Core.ClientAddress;
using Mtt.Core.Control.Commands;
using Mtt.Core.Control.Http;
using Mtt.Core.Http;
using Mtt.Core.Mux;
using Mtt.Core.Routing;
using Mtt.Core.Upgrade;
using Mtt.Core.WebSockets;
using Mtt.Tests.ClientAddress;
using Mtt.Tests.Support;
using Mtt.Tests.WebSockets;
using Xunit.Abstractions;
using static Mtt.Tests.WebSockets.ClientFrameBuilder;

namespace Mtt.Tests.Hardening.Fuzzing;

/// <summary>
/// Mutation fuzzing of every parser a peer or an operator's script can reach, from valid corpora:
/// no exception escapes, every call returns promptly and makes progress, and no call allocates more
/// than a small fixed bound whatever length its input claims. Budgets and seeds: <see cref="FuzzBudget"/>.
/// </summary>
public class ParserFuzzTests(ITestOutputHelper output)
{
    private static byte[] Ascii(string text) => Encoding.Latin1.GetBytes(text);

    [Fact]
    public Task UpgradeParser_SurvivesMutatedHeads()
    {
        byte[][] corpus =
        [
            Ascii(RawWebSocketClient.GoClientHead("/9f3c1e")),
            Ascii(RawWebSocketClient.GoClientHead("/p?q=1", subprotocol: "smux_on")),
            Ascii(RawWebSocketClient.GoClientHead("/p", subprotocol: null)),
            Ascii("GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n"),
            Ascii("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"),
            Ascii("GET http://h/p HTTP/1.1\r\nHost: h\r\n\r\n"),
        ];
        return FuzzLoop.RunAsync("UpgradeParser.Parse", 40_000, corpus, (input, fuzzer, probe) =>
        {
            var whole = new ReadOnlySequence<byte>(input);
            probe.Begin();
            var single = UpgradeParser.Parse(whole);
            probe.End();

            var segmented = SegmentedSequence.SplitAt(input, fuzzer.SplitPoints(input.Length));
            probe.Begin();
            var split = UpgradeParser.Parse(segmented);
            probe.End();
            if (split.Status != single.Status || split.RefusalStatus != single.RefusalStatus)
                throw new FuzzBoundException($"segments change the outcome: {single.Status}/{single.RefusalStatus} whole, {split.Status}/{split.RefusalStatus} split");
            if (single.Status == UpgradeParseStatus.Complete && whole.Slice(single.End).Length > input.Length)
                throw new FuzzBoundException("End outside the buffer");
            if (single.Status == UpgradeParseStatus.Invalid && single.RefusalStatus is < 400 or > 599)
                throw new FuzzBoundException($"refusal status {single.RefusalStatus}");

            // As a pipe delivers it: growing prefixes, until the parser decides.
            foreach (int cut in fuzzer.SplitPoints(input.Length))
            {
                probe.Begin();
                var partial = UpgradeParser.Parse(new ReadOnlySequence<byte>(input, 0, cut));
                probe.End();
                if (partial.Status != UpgradeParseStatus.Incomplete) break;
            }
        }, output);
    }

    [Fact]
    public Task ProxyHeaderParser_SurvivesMutatedHeaders()
    {
        var source4 = IPEndPoint.Parse("203.0.113.7:51234");
        var destination4 = IPEndPoint.Parse("198.51.100.1:443");
        byte[] tail = Encoding.ASCII.GetBytes("GET /u HTTP/1.1\r\n");
        byte[][] corpus =
        [
            [.. ProxyHeaders.V1(source4, destination4), .. tail],
            [.. ProxyHeaders.V1("PROXY TCP6 2001:db8::7 ::ffff:198.51.100.1 65535 0\r\n"), .. tail],
            ProxyHeaders.V1("PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"),
            [.. ProxyHeaders.V2(source4, destination4), 0x16, 0x03, 0x01],
            ProxyHeaders.V2(IPEndPoint.Parse("[2001:db8::7]:1"), IPEndPoint.Parse("[::1]:2"), [.. ProxyHeaders.Tlv(0x02, "tunnel.example.com"u8.ToArray()), .. ProxyHeaders.Tlv(0x20, [1, 0, 0, 0, 0])]),
            ProxyHeaders.V2Raw(0x20, 0x00, []),
            ProxyHeaders.V2Raw(0x21, 0x31, new byte[216]),
        ];
        return FuzzLoop.RunAsync("ProxyHeaderParser.Parse", 40_000, corpus, (input, fuzzer, probe) =>
        {
            probe.Begin();
            var whole = ProxyHeaderParser.Parse(input.AsSpan());
            probe.End();
            if (whole.Status == ProxyHeaderParseStatus.Complete && (whole.Length <= 0 || whole.Length > input.Length || whole.Length > ProxyHeaderParser.MaxHeaderLength))
                throw new FuzzBoundException($"length {whole.Length} of {input.Length} bytes");
            if (whole.Status == ProxyHeaderParseStatus.NeedMoreData && input.Length >= ProxyHeaderParser.MaxHeaderLength)
                throw new FuzzBoundException($"still waiting after {input.Length} bytes");
            if (whole.Status == ProxyHeaderParseStatus.Invalid && string.IsNullOrEmpty(whole.Reason))
                throw new FuzzBoundException("invalid without a reason");

            var segmented = SegmentedSequence.SplitAt(input, fuzzer.SplitPoints(input.Length));
            probe.Begin();
            var split = ProxyHeaderParser.Parse(segmented);
            probe.End();
            if (split.Status != whole.Status || split.Length != whole.Length || !Equals(split.Source, whole.Source) || !Equals(split.Destination, whole.Destination))
                throw new FuzzBoundException($"segments change the outcome: {whole.Status}/{whole.Length} whole, {split.Status}/{split.Length} split");

            // The reader consumes every byte of a prefix the parser is still waiting on: those bytes must all
            // be header, and a prefix's verdict must be the whole input's.
            foreach (int cut in fuzzer.SplitPoints(input.Length))
            {
                probe.Begin();
                var partial = ProxyHeaderParser.Parse(input.AsSpan(0, cut));
                probe.End();
                if (partial.Status == ProxyHeaderParseStatus.NeedMoreData)
                {
                    if (whole.Status == ProxyHeaderParseStatus.Complete && whole.Length <= cut)
                        throw new FuzzBoundException($"waiting after {cut} bytes on a header of {whole.Length}");
                    continue;
                }
                if (partial.Status != whole.Status || partial.Length != whole.Length)
                    throw new FuzzBoundException($"{partial.Status}/{partial.Length} after {cut} bytes, {whole.Status}/{whole.Length} on all {input.Length}");
                break;
            }
        }, output);
    }

    [Fact]
    public Task FrameDecoder_SurvivesMutatedFrames()
    {
        byte[][] corpus =
        [
            Binary(Encoding.ASCII.GetBytes("hello, backend")),
            Concat(Binary(DecoderFeed.Pattern(300), fin: false), Ping("ping"u8), Continuation(DecoderFeed.Pattern(70))),
            Concat(Binary(DecoderFeed.Pattern(126)), Binary(DecoderFeed.Pattern(70_000)[..2000]), Pong([])),
            Close(1000, "bye"),
            Concat(Binary([]), Close(4000)),
            Header((int)WebSocketOpcode.Binary, 0x7FFF_FFFF_FFFF_FFFF),
        ];
        var sink = new DiscardingBufferWriter();
        return FuzzLoop.RunAsync("FrameDecoder.Decode", 40_000, corpus, (input, fuzzer, probe) =>
        {
            var decoder = new FrameDecoder();
            int budget = 1 + fuzzer.Choose(65536);
            DeliverInPieces(input, fuzzer, (ref ReadOnlySequence<byte> buffer) =>
            {
                probe.Begin();
                var result = decoder.Decode(ref buffer, sink, budget);
                probe.End();
                return result.Status switch
                {
                    DecodeStatus.NeedMoreData => Step.NeedMore,
                    DecodeStatus.ProtocolError => Step.Stop,
                    _ => Step.Again,
                };
            });
        }, output);
    }

    [Fact]
    public Task SmuxFrameParser_SurvivesMutatedFrames()
    {
        static byte[] Smux(byte version, byte command, uint id, int dataLength)
        {
            var frame = new byte[SmuxTestClient.HeaderSize + dataLength];
            SmuxTestClient.WriteHeader(frame, version, command, (ushort)dataLength, id);
            for (int i = 0; i < dataLength; i++) frame[SmuxTestClient.HeaderSize + i] = (byte)i;
            return frame;
        }
        byte[][] corpus =
        [
            [.. Smux(1, SmuxTestClient.Syn, 3, 0), .. Smux(1, SmuxTestClient.Psh, 3, 100), .. Smux(1, SmuxTestClient.Nop, 0, 0), .. Smux(1, SmuxTestClient.Fin, 3, 0)],
            [.. Smux(2, SmuxTestClient.Syn, 3, 0), .. Smux(2, SmuxTestClient.Upd, 3, 8), .. Smux(2, SmuxTestClient.Psh, 3, 1000), .. Smux(2, SmuxTestClient.Fin, 3, 0)],
            [.. Smux(1, SmuxTestClient.Psh, 5, 0), .. Smux(1, SmuxTestClient.Psh, 0xFFFF_FFFF, 3)],
        ];
        return FuzzLoop.RunAsync("SmuxFrameParser.Parse", 40_000, corpus, (input, fuzzer, probe) =>
        {
            var parser = new SmuxFrameParser();
            DeliverInPieces(input, fuzzer, (ref ReadOnlySequence<byte> buffer) =>
            {
                // The session may offer less PSH data than there is (flow control): a random prefix.
                byte[] available = buffer.ToArray();
                int offered = parser.DataRemaining > 0 && available.Length > 0 ? 1 + fuzzer.Choose(available.Length) : available.Length;
                probe.Begin();
                var status = parser.Parse(available.AsSpan(0, offered), out var header, out int consumed, out _, out _);
                probe.End();
                if (consumed < 0 || consumed > offered) throw new FuzzBoundException($"consumed {consumed} of {offered}");
                if (status is SmuxParseStatus.Frame or SmuxParseStatus.Data && consumed == 0) throw new FuzzBoundException($"{status} without progress");
                if (status == SmuxParseStatus.Data && header.Length != consumed) throw new FuzzBoundException("Data header length is not what was consumed");
                buffer = buffer.Slice(consumed);
                return status switch
                {
                    SmuxParseStatus.ProtocolError => Step.Stop,
                    SmuxParseStatus.NeedMoreData => Step.NeedMore,
                    _ => Step.Again,
                };
            });
        }, output);
    }

    [Fact]
    public Task ControllerHead_SurvivesMutatedHeads()
    {
        byte[][] corpus =
        [
            Ascii("POST / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\nContent-Length: 62\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"),
            Ascii("POST /any HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"),
            Ascii("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer abc\r\n\r\n"),
            Ascii("POST / HTTP/1.0\nHost: x\nContent-Length: 99999999999999999999\n\n"),
        ];
        int limit = ControllerLimits.DefaultMaxHeadBytes;
        return FuzzLoop.RunAsync("HttpHeadParser.Parse (controller)", 40_000, corpus, (input, fuzzer, probe) =>
        {
            var whole = new ReadOnlySequence<byte>(input);
            var handler = new ControllerHeadHandler();
            probe.Begin();
            var single = HttpHeadParser.Parse(whole, limit, ControllerHeadHandler.MaxHeaderCount, ref handler);
            probe.End();
            if (single.Status == HeadParseStatus.Complete && handler.Request.ContentLength < ControllerRequest.NoContentLength)
                throw new FuzzBoundException($"content length {handler.Request.ContentLength}");
            if (single.Status == HeadParseStatus.Invalid && RequestRejection.StatusCode(single.Reason) is < 400 or > 599)
                throw new FuzzBoundException($"rejection {single.Reason}");

            var segmented = SegmentedSequence.SplitAt(input, fuzzer.SplitPoints(input.Length));
            var splitHandler = new ControllerHeadHandler();
            probe.Begin();
            var split = HttpHeadParser.Parse(segmented, limit, ControllerHeadHandler.MaxHeaderCount, ref splitHandler);
            probe.End();
            if (split.Status != single.Status || split.Reason != single.Reason || (single.Status == HeadParseStatus.Complete && splitHandler.Request != handler.Request))
                throw new FuzzBoundException($"segments change the outcome: {single.Status}/{single.Reason} whole, {split.Status}/{split.Reason} split");
        }, output);
    }

    [Fact]
    public Task ChunkedBodyDecoder_SurvivesMutatedBodies()
    {
        byte[][] corpus =
        [
            Ascii("5\r\nhello\r\n0\r\n\r\n"),
            Ascii("1a;name=value\r\nabcdefghijklmnopqrstuvwxyz\r\n3\r\n{}\n\r\n0\r\nX-Trailer: t\r\n\r\n"),
            Ascii("1FFFFF\r\n"),
            Ascii("0000000000000000000010\r\n0123456789abcdef\r\n0\r\n\r\n"),
        ];
        var sink = new DiscardingBufferWriter();
        return FuzzLoop.RunAsync("ChunkedBodyDecoder.Decode", 40_000, corpus, (input, fuzzer, probe) =>
        {
            var decoder = new ChunkedBodyDecoder(ControllerLimits.DefaultMaxBodyBytes);
            DeliverInPieces(input, fuzzer, (ref ReadOnlySequence<byte> buffer) =>
            {
                var reader = new SequenceReader<byte>(buffer);
                probe.Begin();
                var status = decoder.Decode(ref reader, sink);
                probe.End();
                if (decoder.Total > ControllerLimits.DefaultMaxBodyBytes) throw new FuzzBoundException($"decoded {decoder.Total} bytes past the limit");
                buffer = buffer.Slice(reader.Position);
                return status == ChunkedStatus.NeedMoreData ? Step.NeedMore : Step.Stop;
            });
        }, output);
    }

    [Fact]
    public Task CommandProcessor_SurvivesMutatedCommands()
    {
        byte[][] corpus =
        [
            Ascii("""{"opt":1,"args_bunch":[{"path":"/u1","dst":"127.0.0.1:10001","name":"acct-1"},{"path":"/u2","dst":"[::1]:10002"}]}"""),
            Ascii("""{"opt":2,"args_bunch":[{"path":"/u1"}]}"""),
            Ascii("""{"opt":3}"""),
            Ascii("""{"opt":4}"""),
            Ascii("""{"opt":5,"reset":true}"""),
            Ascii("""{"opt":9}"""),
            Ascii("""{"opt":1,"args_bunch":[{"path":"/p","dst":"example.com:65535"}]}"""),
        ];
        return FuzzLoop.RunAsync("CommandProcessor.Execute", 20_000, corpus, (input, _, probe) =>
        {
            var routes = new RouteStore();
            probe.Begin();
            var reply = CommandProcessor.Execute(input, routes);
            probe.End();
            if (reply.Res is not (ControllerReply.Success or ControllerReply.Failure)) throw new FuzzBoundException($"res {reply.Res}");
            if (reply.Res == ControllerReply.Failure && routes.Current.Count != 0) throw new FuzzBoundException("a refused command changed the table");
        }, output);
    }

    private enum Step { Again, NeedMore, Stop }

    private delegate Step Consume(ref ReadOnlySequence<byte> buffer);

    /// <summary>
    /// Delivers the input as a pipe would: in pieces cut at random points, the unconsumed rest kept in
    /// front of the next piece (as another segment). Every call must make progress or ask for more: a
    /// bounded number of calls per byte, or the parser is stuck.
    /// </summary>
    private static void DeliverInPieces(byte[] input, MutationFuzzer fuzzer, Consume consume)
    {
        int[] cuts = [.. fuzzer.SplitPoints(input.Length), input.Length];
        byte[] pending = [];
        int delivered = 0;
        int maxCalls = 2 * input.Length + 4 * cuts.Length + 16;
        int calls = 0;
        foreach (int cut in cuts)
        {
            byte[] piece = input[delivered..cut];
            delivered = cut;
            byte[] joined = [.. pending, .. piece];
            var buffer = SegmentedSequence.SplitAt(joined, pending.Length);
            while (true)
            {
                if (++calls > maxCalls) throw new FuzzBoundException($"no progress after {calls} calls on {input.Length} bytes");
                long before = buffer.Length;
                var step = consume(ref buffer);
                if (buffer.Length > before) throw new FuzzBoundException("the buffer grew");
                if (step == Step.Stop) return;
                if (step == Step.NeedMore) break;
            }
            pending = buffer.ToArray();
        }
    }
}
