using System.Runtime.CompilerServices;
using System.Text;
using Mtt.Core.Http;

namespace Mtt.Core.Control.Http;

/// <summary>
/// The controller's rules on top of the one head parser: any method (the answer to one it does not
/// serve comes after the token check), HTTP/1.1 or 1.0 (RFC 9112 2.3; another version gets 505), and
/// the Authorization header kept. Builds the <see cref="ControllerRequest"/> once the head is complete.
/// </summary>
internal struct ControllerHeadHandler : IRequestHeadHandler
{
    /// <summary>Header lines in one head: curl and scripts send a handful; a proxy in front adds a few.</summary>
    public const int MaxHeaderCount = 64;

    private Range _authorization;
    private int _authorizationCount;

    /// <summary>Set once the head is complete.</summary>
    public ControllerRequest Request { get; private set; }

    public RequestRejectionReason OnRequestLine(ReadOnlySpan<byte> bytes, in RequestHead head)
    {
        this = default; // each scan starts from the first byte again
        return head.Version == RequestVersion.Other ? RequestRejectionReason.HttpVersionNotSupported : RequestRejectionReason.None;
    }

    // Called for every known header line of every scan: kept inline in the parser's loop.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public RequestRejectionReason OnHeader(KnownHeader header, ReadOnlySpan<byte> value, Range valueRange, in RequestHead head)
    {
        if (header == KnownHeader.Authorization && _authorizationCount++ == 0) _authorization = valueRange;
        return RequestRejectionReason.None;
    }

    public RequestRejectionReason OnHeadComplete(ReadOnlySpan<byte> bytes, in RequestHead head)
    {
        bool isHttp11 = head.Version == RequestVersion.Http11;
        // HTTP/1.0 connections are closed after one exchange; keep-alive is an HTTP/1.1 default (RFC 9112 section 9.3).
        Request = new ControllerRequest(Encoding.ASCII.GetString(bytes[head.Method]), head.ContentLength, head.IsChunked,
            ExpectsContinue: head.ExpectsContinue && isHttp11, KeepAlive: isHttp11 && !head.ConnectionClose)
        {
            Target = Encoding.ASCII.GetString(bytes[head.Target]),
            Authorization = _authorizationCount == 1 ? Encoding.Latin1.GetString(bytes[_authorization]) : null,
        };
        return RequestRejectionReason.None;
    }
}
