using System.Buffers;
using Mtt.Core.Http;

namespace Mtt.Core.Upgrade;

/// <summary>
/// Parses the HTTP/1.1 request head that opens a WebSocket connection (docs/protocol.md §2) with the one head parser and the
/// upgrade's rules (<see cref="UpgradeHeadHandler"/>). Pure: bytes in, a result and a position out.
/// Stateless, so the caller parses the whole buffer again after each read; the head is bounded by
/// <see cref="MaxHeadBytes"/>, which bounds that work too.
/// </summary>
public static class UpgradeParser
{
    /// <summary>The whole head, request line to blank line: the Go client's is about 250 bytes; 8 KiB is what common servers allow.</summary>
    public const int MaxHeadBytes = 8 * 1024;

    /// <summary>Header lines in one head: the Go client sends 6; a proxy in front adds a few.</summary>
    public const int MaxHeaderCount = 64;

    public static UpgradeParseResult Parse(in ReadOnlySequence<byte> buffer)
    {
        var handler = new UpgradeHeadHandler();
        var result = HttpHeadParser.Parse(buffer, MaxHeadBytes, MaxHeaderCount, ref handler);
        return result.Status switch
        {
            HeadParseStatus.Complete => UpgradeParseResult.Complete(result.Consumed, handler.Request!),
            HeadParseStatus.Incomplete => UpgradeParseResult.Incomplete(result.Examined),
            _ => UpgradeParseResult.Invalid(RequestRejection.StatusCode(result.Reason), RequestRejection.Text(result.Reason)),
        };
    }
}
