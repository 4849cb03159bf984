using Mtt.Core.Http;

namespace Mtt.Core.Control.Http;

/// <summary>What the controller needs from a request head: the method, how the body is framed, and whether to keep the connection.</summary>
internal readonly record struct ControllerRequest(
    string Method,
    long ContentLength,
    bool IsChunked,
    bool ExpectsContinue,
    bool KeepAlive)
{
    /// <summary>The value of <see cref="ContentLength"/> when the request had no Content-Length header.</summary>
    public const long NoContentLength = RequestHead.NoContentLength;

    public const string MetricsPath = "/metrics";

    public const string HealthPath = "/healthz";

    /// <summary>The Authorization header's value; null when absent or sent more than once (then nothing is admitted).</summary>
    public string? Authorization { get; init; }

    public bool IsPost => Method == "POST";

    /// <summary>The request target as sent (any target is a command when POSTed, as in the original).</summary>
    public string Target { get; init; } = "";

    /// <summary><c>GET /metrics</c>, with or without a query: the Prometheus scrape.</summary>
    public bool IsMetricsScrape => IsGet(MetricsPath);

    /// <summary><c>GET /healthz</c>, with or without a query: 200 while serving, 503 while draining.</summary>
    public bool IsHealthCheck => IsGet(HealthPath);

    private bool IsGet(string path) =>
        Method == "GET" && (Target == path || (Target.StartsWith(path, StringComparison.Ordinal) && Target.Length > path.Length && Target[path.Length] == '?'));
}
