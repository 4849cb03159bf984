using Mtt.Core.Http;

namespace Mtt.Core.Control.Http;

/// <summary>An HTTP-level refusal: the status to answer with and the reason given in <c>err_string</c>.</summary>
internal readonly record struct HttpRejection(int StatusCode, string Reason)
{
    public static HttpRejection BadRequest(string reason) => new(400, $"malformed HTTP request: {reason}");

    /// <summary>A refused head: its status, and its text (after "malformed HTTP request: " for a 400).</summary>
    public static HttpRejection Of(RequestRejectionReason reason, ControllerLimits limits)
    {
        if (reason == RequestRejectionReason.HeadTooLarge) return new(431, $"request head is larger than {limits.MaxHeadBytes} bytes");
        int status = RequestRejection.StatusCode(reason);
        return status == 400 ? BadRequest(RequestRejection.Text(reason)) : new HttpRejection(status, RequestRejection.Text(reason));
    }

    public static HttpRejection BodyTooLarge(ControllerLimits limits) => new(413, $"request body is larger than {limits.MaxBodyBytes} bytes");
}
