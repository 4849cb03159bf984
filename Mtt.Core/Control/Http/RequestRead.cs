namespace Mtt.Core.Control.Http;

/// <summary>What <see cref="ControllerRequestReader"/> got: a head, a refusal, or the client's close.</summary>
internal readonly record struct RequestRead(RequestReadStatus Status, ControllerRequest Request, HttpRejection Rejection, string? ClosedIn)
{
    public static RequestRead Read(ControllerRequest request = default) => new(RequestReadStatus.Read, request, default, null);

    public static RequestRead Refused(HttpRejection rejection) => new(RequestReadStatus.Refused, default, rejection, null);

    /// <param name="closedIn">Which part the close cut short, for the log; null when no request had begun.</param>
    public static RequestRead ClientClosed(string? closedIn) => new(RequestReadStatus.ClientClosed, default, default, closedIn);
}
