namespace Mtt.Core.Http;

/// <summary>
/// The outcome of <see cref="HttpHeadParser.Parse"/>, with the positions a <c>PipeReader</c> wants:
/// passed to <c>AdvanceTo</c>, the next read wakes only when new bytes could finish the head.
/// </summary>
internal readonly struct HeadParseResult(HeadParseStatus status, RequestRejectionReason reason, SequencePosition consumed, SequencePosition examined)
{
    public HeadParseStatus Status { get; } = status;

    /// <summary>Invalid: why; otherwise <see cref="RequestRejectionReason.None"/>.</summary>
    public RequestRejectionReason Reason { get; } = reason;

    /// <summary>
    /// Complete: right after the empty line that ends the head. Incomplete: after any empty lines before
    /// the request line, which carry nothing (RFC 9112 2.2). Invalid: the start of the buffer.
    /// </summary>
    public SequencePosition Consumed { get; } = consumed;

    /// <summary>Complete: <see cref="Consumed"/>. Otherwise the end of the buffer: every byte there was looked at.</summary>
    public SequencePosition Examined { get; } = examined;
}
