using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mtt.Core.Control;

/// <summary>
/// The controller's answer, serialised as <c>{"res":1}</c>, <c>{"res":1,"current_users":N}</c> (ping) or
/// <c>{"res":2,"err_string":"..."}</c>; scripts written for the original server read these names.
/// </summary>
public sealed class ControllerReply
{
    public const int Success = 1;
    public const int Failure = 2;

    public static ControllerReply Ok { get; } = new() { Res = Success };

    [JsonPropertyName("res")]
    public int Res { get; init; }

    [JsonPropertyName("err_string")]
    public string? ErrString { get; init; }

    /// <summary>Set by ping only, and then always (also when 0).</summary>
    [JsonPropertyName("current_users")]
    public int? CurrentUsers { get; init; }

    public static ControllerReply Pong(int currentUsers) => new() { Res = Success, CurrentUsers = currentUsers };

    public static ControllerReply Error(string errString) => new() { Res = Failure, ErrString = errString };

    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, ControllerJsonContext.Default.ControllerReply);
}
