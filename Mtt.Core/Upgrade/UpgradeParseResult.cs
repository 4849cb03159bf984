namespace Mtt.Core.Upgrade;

/// <summary>The outcome of <see cref="UpgradeParser.Parse"/>; a struct, so an incomplete or refused head allocates nothing.</summary>
public readonly struct UpgradeParseResult
{
    private UpgradeParseResult(UpgradeParseStatus status, SequencePosition end, UpgradeRequest? request, int refusalStatus, string? refusalReason)
    {
        Status = status;
        End = end;
        Request = request;
        RefusalStatus = refusalStatus;
        RefusalReason = refusalReason;
    }

    public UpgradeParseStatus Status { get; }

    /// <summary>
    /// Complete: the position right after the blank line; bytes from here on belong to the WebSocket.
    /// Incomplete: the end of the buffer, i.e. everything was examined (pass it as <c>examined</c> to
    /// <c>PipeReader.AdvanceTo(buffer.Start, End)</c>). Invalid: default.
    /// </summary>
    public SequencePosition End { get; }

    /// <summary>The parsed head; set only when <see cref="Status"/> is Complete.</summary>
    public UpgradeRequest? Request { get; }

    /// <summary>Invalid: 400 (malformed), 405 (method not GET) or 431 (head too large, too many headers); otherwise 0.</summary>
    public int RefusalStatus { get; }

    /// <summary>Invalid: a short constant text for the log; otherwise null.</summary>
    public string? RefusalReason { get; }

    internal static UpgradeParseResult Complete(SequencePosition end, UpgradeRequest request) =>
        new(UpgradeParseStatus.Complete, end, request, 0, null);

    internal static UpgradeParseResult Incomplete(SequencePosition examined) =>
        new(UpgradeParseStatus.Incomplete, examined, null, 0, null);

    internal static UpgradeParseResult Invalid(int status, string reason) =>
        new(UpgradeParseStatus.Invalid, default, null, status, reason);
}
