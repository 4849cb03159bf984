using System.Text;
using Mtt.Core.Diagnostics;
using Mtt.Core.Routing;

namespace Mtt.Tests.Support;

/// <summary>What <c>GET /metrics</c> would answer for a server's counters, rendered through the meter as the controller does.</summary>
public static class MetricsText
{
    public static string Of(ServerMetrics metrics, RouteStore? routes = null)
    {
        using var meter = new ServerMeter(metrics, routes ?? new RouteStore());
        using var exposition = new PrometheusExposition(meter);
        return Encoding.UTF8.GetString(exposition.Render());
    }
}
