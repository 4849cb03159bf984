using System.Text.Json;

namespace Mtt.Tests.Interop;

/// <summary>One run of the Node client: its exit code, everything it printed, and its parsed RESULT.</summary>
public sealed record NodeWsRun(int ExitCode, string Output, JsonElement Result)
{
    public bool Ok => Result.GetProperty("ok").GetBoolean();

    public int CloseCode => Result.GetProperty("close").GetProperty("code").GetInt32();

    public string Text(string name) => Result.GetProperty(name).GetString() ?? "";
}
