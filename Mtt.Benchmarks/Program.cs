using BenchmarkDotNet.Running;
using Mtt.Benchmarks.Load;

namespace Mtt.Benchmarks;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // `load ...` is the end-to-end harness against the real server process; anything else is BenchmarkDotNet's.
        if (args.Length > 0 && args[0] == LoadCommand.Verb) return await LoadCommand.RunAsync(args).ConfigureAwait(false);
        // `cluster` drives a redis-server and several server processes (-redis): docs/benchmarks.md, scale-out.
        if (args.Length > 0 && args[0] == Cluster.ClusterBench.Verb) return await Cluster.ClusterBench.RunAsync(args).ConfigureAwait(false);
        // `flush-cost` times the counter flush script in a redis-server, with and without quotas: docs/benchmarks.md.
        if (args.Length > 0 && args[0] == Cluster.FlushCostBench.Verb) return await Cluster.FlushCostBench.RunAsync(args).ConfigureAwait(false);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
