using System.Buffers;
using System.IO.Pipelines;
using Mtt.Core.Http;

namespace Mtt.Core.Control.Http;

/// <summary>
/// Reads controller requests off one connection, one after another: the head through the one head
/// parser, then the body by its Content-Length or its chunked framing (RFC 9112 section 6). It only
/// reads; what to answer, and what to log, are the connection's.
/// </summary>
internal sealed class ControllerRequestReader(PipeReader input, ControllerLimits limits)
{
    /// <summary>
    /// Reads the next request head. <paramref name="requestStarted"/> runs once, at its first byte (empty
    /// lines before a request line are not a request, so an idle keep-alive connection stays idle).
    /// </summary>
    public async Task<RequestRead> ReadHeadAsync(Action requestStarted, CancellationToken token)
    {
        bool started = false;
        while (true)
        {
            ReadResult result = await input.ReadAsync(token);
            var handler = new ControllerHeadHandler();
            var parsed = HttpHeadParser.Parse(result.Buffer, limits.MaxHeadBytes, ControllerHeadHandler.MaxHeaderCount, ref handler);
            if (!started && (parsed.Status != HeadParseStatus.Incomplete || !result.Buffer.Slice(parsed.Consumed).IsEmpty))
            {
                started = true;
                requestStarted();
            }
            input.AdvanceTo(parsed.Consumed, parsed.Examined);
            if (parsed.Status == HeadParseStatus.Complete) return RequestRead.Read(handler.Request);
            if (parsed.Status == HeadParseStatus.Invalid) return RequestRead.Refused(HttpRejection.Of(parsed.Reason, limits));
            if (result.IsCompleted) return RequestRead.ClientClosed(started ? "a request head" : null);
        }
    }

    /// <summary>Reads the body that <paramref name="head"/> frames into <paramref name="body"/>.</summary>
    public Task<RequestRead> ReadBodyAsync(ControllerRequest head, PooledBodyBuffer body, CancellationToken token) =>
        head.IsChunked ? ReadChunkedBodyAsync(body, token) : ReadContentLengthBodyAsync(body, head.ContentLength, token);

    private async Task<RequestRead> ReadContentLengthBodyAsync(PooledBodyBuffer body, long length, CancellationToken token)
    {
        while (body.WrittenCount < length)
        {
            ReadResult result = await input.ReadAsync(token);
            ReadOnlySequence<byte> buffer = result.Buffer;
            long take = Math.Min(buffer.Length, length - body.WrittenCount);
            foreach (var segment in buffer.Slice(0, take)) body.Write(segment.Span);
            input.AdvanceTo(buffer.GetPosition(take));
            if (body.WrittenCount < length && result.IsCompleted) return RequestRead.ClientClosed("a request body");
        }
        return RequestRead.Read();
    }

    private async Task<RequestRead> ReadChunkedBodyAsync(PooledBodyBuffer body, CancellationToken token)
    {
        var decoder = new ChunkedBodyDecoder(limits.MaxBodyBytes);
        while (true)
        {
            ReadResult result = await input.ReadAsync(token);
            var reader = new SequenceReader<byte>(result.Buffer);
            ChunkedStatus status = decoder.Decode(ref reader, body);
            if (status == ChunkedStatus.Done)
            {
                input.AdvanceTo(reader.Position);
                return RequestRead.Read();
            }
            input.AdvanceTo(reader.Position, result.Buffer.End);
            if (status == ChunkedStatus.TooLarge) return RequestRead.Refused(HttpRejection.BodyTooLarge(limits));
            if (status == ChunkedStatus.Malformed) return RequestRead.Refused(HttpRejection.BadRequest(decoder.Error ?? "invalid chunked body"));
            if (result.IsCompleted) return RequestRead.ClientClosed("a chunked body");
        }
    }
}
