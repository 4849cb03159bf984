namespace Mtt.Core.Control;

/// <summary>What the controller needs from a request head: the method, how the body is framed, and whether to keep the connection.</summary>
internal readonly record struct RequestHead(
    string Method,
    long ContentLength,
    bool IsChunked,
    bool ExpectsContinue,
    bool KeepAlive)
{
    /// <summary>The value of <see cref="ContentLength"/> when the request had no Content-Length header.</summary>
    public const long NoContentLength = -1;

    public bool IsPost => Method == "POST";
}
