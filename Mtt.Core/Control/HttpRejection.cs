namespace Mtt.Core.Control;

/// <summary>An HTTP-level refusal: the status to answer with and the reason given in <c>err_string</c>.</summary>
internal readonly record struct HttpRejection(int StatusCode, string Reason)
{
    public static HttpRejection BadRequest(string reason) => new(400, $"malformed HTTP request: {reason}");
}
