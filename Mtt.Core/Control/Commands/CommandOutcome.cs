namespace Mtt.Core.Control.Commands;

/// <summary>
/// What a command did: the reply for the client, and a summary for the info log that never names a
/// user's path (paths are secrets; they reach the log only through <c>-verbose</c>).
/// </summary>
/// <param name="Opt">The opt that was asked for, or 0 when the body could not be read as a command.</param>
/// <param name="EntryCount">Entries in <c>args_bunch</c> (0 when absent).</param>
/// <param name="LogSummary">"applied, N users" or the reason of a refusal, without paths.</param>
public readonly record struct CommandOutcome(ControllerReply Reply, int Opt, int EntryCount, string LogSummary);
