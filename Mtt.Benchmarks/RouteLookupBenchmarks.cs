using BenchmarkDotNet.Attributes;
using Mtt.Core.Routing;
using Mtt.Core.Transport;

namespace Mtt.Benchmarks;

/// <summary>
/// The route lookup each upgrade request makes, <see cref="RouteTable.TryGet(string, out Route)"/> with
/// the path string the upgrade parser produced (the one the server calls), against tables of 1 to
/// 1,000,000 users: a hit in the middle of the table and a miss (a 404). Goal: the same cost whatever
/// the table's size, no allocation.
/// </summary>
[MemoryDiagnoser]
public class RouteLookupBenchmarks
{
    private RouteTable _table = RouteTable.Empty;
    private string _present = "";
    private string _missing = "";

    [Params(1, 10_000, 40_000, 1_000_000)]
    public int Users { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var backend = new BackendAddress("127.0.0.1", 10_000);
        var routes = new Route[Users];
        for (int i = 0; i < routes.Length; i++) routes[i] = new Route($"/path_{i}", backend);
        _table = RouteTable.From(routes);
        // New strings, as the parser makes one per request: equal to a key, never the same instance,
        // so the lookup compares characters as it does for a real request.
        _present = new string($"/path_{Users / 2}".AsSpan());
        _missing = new string("/path_nobody".AsSpan());
        if (!_table.TryGet(_present, out _) || _table.TryGet(_missing, out _)) throw new InvalidOperationException("the table is not as built");
    }

    [Benchmark(Baseline = true)]
    public bool Hit() => _table.TryGet(_present, out _);

    [Benchmark]
    public bool Miss() => _table.TryGet(_missing, out _);
}
