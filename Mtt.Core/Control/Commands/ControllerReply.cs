using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mtt.Core.Control.Commands;

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

    /// <summary>Set by opt 4 only.</summary>
    [JsonPropertyName("users")]
    public List<UserReport>? Users { get; init; }

    /// <summary>Set by opt 5 only.</summary>
    [JsonPropertyName("traffic")]
    public List<TrafficReport>? Traffic { get; init; }

    /// <summary>Set by opt 6 only.</summary>
    [JsonPropertyName("nodes")]
    public List<NodeReport>? Nodes { get; init; }

    public static ControllerReply Pong(int currentUsers) => new() { Res = Success, CurrentUsers = currentUsers };

    public static ControllerReply Error(string errString) => new() { Res = Failure, ErrString = errString };

    // The default encoder writes quotes in err_string as \u0022, which an operator reading curl's output
    // should not have to decode; the reply is never embedded in HTML, so the relaxed encoder is safe.
    private static readonly ControllerJsonContext ReplyContext = new(new JsonSerializerOptions
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    });

    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, ReplyContext.ControllerReply);
}
