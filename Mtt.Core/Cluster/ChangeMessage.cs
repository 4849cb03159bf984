using System.Globalization;
using Mtt.Core.Control.Commands;
using Mtt.Core.Control.State;
using Mtt.Core.Routing;

namespace Mtt.Core.Cluster;

/// <summary>
/// A change as the change script publishes it: <c>version\nopt\nline\nline...</c>, a line being a user's record
/// (opt 1) or a path (opt 2). Records are compact JSON and paths hold no whitespace, so a line feed never
/// appears inside a line.
/// </summary>
internal static class ChangeMessage
{
    /// <summary>Parses a message; false (with the reason) for one this instance cannot apply, which then resyncs.</summary>
    public static bool TryParse(string message, out long version, out UserChange change, out string? reason)
    {
        version = 0;
        change = null!;
        string[] lines = message.Split('\n');
        if (lines.Length < 2 || !long.TryParse(lines[0], NumberStyles.None, CultureInfo.InvariantCulture, out version)
            || !int.TryParse(lines[1], NumberStyles.None, CultureInfo.InvariantCulture, out int opt))
        {
            reason = "not a change message";
            return false;
        }
        int count = lines.Length == 3 && lines[2].Length == 0 ? 0 : lines.Length - 2;
        switch (opt)
        {
            case CommandProcessor.OptAdd:
                var added = new Route[count];
                for (int i = 0; i < count; i++)
                {
                    if (!UserRecordJson.TryParse(lines[i + 2], out added[i], out reason)) return false;
                }
                change = new UserChange(opt, count, added, []);
                break;
            case CommandProcessor.OptDelete:
                change = new UserChange(opt, count, [], lines[2..]);
                break;
            case CommandProcessor.OptReset:
                change = new UserChange(opt, 0, [], []);
                break;
            default:
                reason = $"unknown opt {opt}";
                return false;
        }
        reason = null;
        return true;
    }
}
