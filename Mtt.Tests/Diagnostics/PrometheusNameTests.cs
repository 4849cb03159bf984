using Mtt.Core.Diagnostics;

namespace Mtt.Tests.Diagnostics;

/// <summary>Instrument names to Prometheus names: the names operators' dashboards already use stay as they were.</summary>
public sealed class PrometheusNameTests
{
    [Theory]
    [InlineData("mtt.users", "{user}", false, "mtt_users")]
    [InlineData("mtt.tunnels.opened", "{tunnel}", true, "mtt_tunnels_opened_total")]
    [InlineData("mtt.bytes.from_client", "By", true, "mtt_bytes_from_client_total")]
    [InlineData("mtt.user.bytes.to_client", "By", true, "mtt_user_bytes_to_client_total")]
    [InlineData("mtt.user.last_activity", "s", false, "mtt_user_last_activity_seconds")]
    [InlineData("mtt.backend.dial_failures", "{connection}", true, "mtt_backend_dial_failures_total")]
    [InlineData("dotnet.process.memory.working_set", "By", false, "dotnet_process_memory_working_set_bytes")]
    [InlineData("dotnet.gc.heap.total_allocated", "By", true, "dotnet_gc_heap_total_allocated_bytes_total")]
    [InlineData("dotnet.process.cpu.time", "s", true, "dotnet_process_cpu_time_seconds_total")]
    [InlineData("odd-name/with spaces", null, false, "odd_name_with_spaces")]
    [InlineData("9lives", null, false, "_9lives")]
    [InlineData("already_total", null, true, "already_total")]
    public void For_MapsTheInstrumentName(string instrument, string? unit, bool counter, string expected) =>
        Assert.Equal(expected, PrometheusName.For(instrument, unit, counter));

    [Theory]
    [InlineData("gc.heap.generation", "gc_heap_generation")]
    [InlineData("a:b", "a_b")]
    [InlineData("user", "user")]
    public void Label_MapsATagKey(string key, string expected) => Assert.Equal(expected, PrometheusName.Label(key));
}
