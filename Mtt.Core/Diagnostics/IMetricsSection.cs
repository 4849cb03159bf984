namespace Mtt.Core.Diagnostics;

/// <summary>Series a part of the server adds to <c>GET /metrics</c> beside the server's own (the shared table's, with <c>-redis</c>).</summary>
internal interface IMetricsSection
{
    void Write(PrometheusTextWriter writer);
}
