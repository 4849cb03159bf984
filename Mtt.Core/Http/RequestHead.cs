namespace Mtt.Core.Http;

/// <summary>
/// What the parser found in a request head, as offsets into the scanned bytes, and the framing facts
/// every server of HTTP/1.1 needs. Scanning allocates nothing, so a head that is still arriving (and is
/// scanned again with each read) costs no garbage; a handler makes strings once, when it completes.
/// </summary>
internal struct RequestHead
{
    /// <summary>The value of <see cref="ContentLength"/> when no Content-Length header came.</summary>
    public const long NoContentLength = -1;

    /// <summary>Where the request line starts: after any empty lines before it (RFC 9112 2.2).</summary>
    public int Start;

    /// <summary>Bytes from the start of the buffer up to and including the empty line that ends the head.</summary>
    public int Length;

    /// <summary>Where the first header line starts.</summary>
    public int HeaderStart;

    public Range Method;
    public Range Target;
    public RequestVersion Version;
    public int HeaderCount;

    /// <summary>The first Host line's trimmed value, and how many Host lines came.</summary>
    public Range Host;
    public int HostCount;

    /// <summary>The declared body length, or <see cref="NoContentLength"/>; saturates at <see cref="long.MaxValue"/>.</summary>
    public long ContentLength;

    public int TransferEncodingCount;

    /// <summary>Every Transfer-Encoding line said exactly <c>chunked</c>.</summary>
    public bool IsChunked;

    /// <summary>A Transfer-Encoding line named a coding other than <c>chunked</c> alone.</summary>
    public bool HasUnsupportedTransferCoding;

    /// <summary>A Connection header's token list holds <c>close</c> (RFC 9112 9.6).</summary>
    public bool ConnectionClose;

    /// <summary>A Connection header's token list holds <c>upgrade</c> (RFC 9110 7.8).</summary>
    public bool ConnectionUpgrade;

    /// <summary>An Expect header is <c>100-continue</c> (RFC 9110 10.1.1); other expectations are ignored, as that section allows.</summary>
    public bool ExpectsContinue;

    public readonly bool HasContentLength => ContentLength != NoContentLength;
}
