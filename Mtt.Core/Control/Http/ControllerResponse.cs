using System.Globalization;
using System.Text;
using Mtt.Core.Control.Commands;

namespace Mtt.Core.Control.Http;

/// <summary>Builds the controller's HTTP/1.1 responses: always a JSON body, <c>res:2</c> on every failure.</summary>
internal static class ControllerResponse
{
    /// <summary>RFC 9110 section 15.2.1: the interim answer to <c>Expect: 100-continue</c>.</summary>
    public static readonly byte[] Continue = "HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray();

    public static byte[] Build(int statusCode, ControllerReply reply, bool close) =>
        Build(statusCode, "application/json", reply.ToUtf8Json(), close);

    public static byte[] Build(int statusCode, string contentType, byte[] json, bool close)
    {
        var head = new StringBuilder(160)
            .Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {statusCode} {ReasonPhrase(statusCode)}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Date: {DateTime.UtcNow:R}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Type: {contentType}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {json.Length}\r\n");
        // RFC 9110 section 15.5.6: a 405 names the methods that are allowed.
        if (statusCode == 405) head.Append("Allow: POST\r\n");
        // RFC 9110 section 11.6.1 and RFC 6750 section 3: a 401 names the scheme it wants.
        if (statusCode == 401) head.Append("WWW-Authenticate: Bearer\r\n");
        if (close) head.Append("Connection: close\r\n");
        head.Append("\r\n");

        byte[] response = new byte[Encoding.ASCII.GetByteCount(head.ToString()) + json.Length];
        int written = Encoding.ASCII.GetBytes(head.ToString(), response);
        json.CopyTo(response, written);
        return response;
    }

    public static byte[] Refusal(HttpRejection rejection) =>
        Build(rejection.StatusCode, ControllerReply.Error(rejection.Reason), close: true);

    private static string ReasonPhrase(int statusCode) => statusCode switch
    {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Error",
    };
}
