namespace Mtt.Core.Diagnostics;

/// <summary><c>-log-format</c>: the shape of a log line.</summary>
public enum LogFormat
{
    /// <summary>Go's line: timestamp, level, message (the timestamp left out when stderr is the journal).</summary>
    Text,

    /// <summary>One JSON object per line, for log shippers: time, level, event, id, message and the event's fields.</summary>
    Json,
}
