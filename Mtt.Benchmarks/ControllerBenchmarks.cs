using System.Text;
using BenchmarkDotNet.Attributes;
using Mtt.Core.Control.Commands;
using Mtt.Core.Routing;

namespace Mtt.Benchmarks;

/// <summary>
/// The controller's bulk load: 40,000 users in one ~1.8 MB request applied to an empty store (goal: well
/// under 100 ms), and the JSON parse alone, so the rest (checking every entry, building the table, the
/// swap) is the difference. Route lookups are in <see cref="RouteLookupBenchmarks"/>.
/// </summary>
[MemoryDiagnoser]
public class ControllerBenchmarks
{
    private const int Users = 40_000;

    private byte[] _body = [];

    [GlobalSetup]
    public void Setup()
    {
        var json = new StringBuilder(Users * 48).Append("""{"opt": 1, "args_bunch": [""");
        for (int i = 0; i < Users; i++)
        {
            if (i > 0) json.Append(", ");
            json.Append($$"""{"path": "/path_{{i}}", "dst": "127.0.0.1:{{10000 + i}}"}""");
        }
        _body = Encoding.UTF8.GetBytes(json.Append("]}").ToString());
        Require(CommandProcessor.Execute(_body, new RouteStore()));
        if (Parse40000Users() != Users) throw new InvalidOperationException("the body did not parse to 40,000 entries");
    }

    /// <summary>The whole command: parse, check each entry, build the table, swap it in.</summary>
    [Benchmark(Baseline = true)]
    public ControllerReply Apply40000Users() => CommandProcessor.Execute(_body, new RouteStore());

    /// <summary>The JSON parse alone, as <see cref="CommandProcessor"/> does it first.</summary>
    [Benchmark]
    public int Parse40000Users()
    {
        if (!CommandProcessor.TryRead(_body, out var command, out string? error)) throw new InvalidOperationException(error);
        return command.ArgsBunch!.Entries.Count;
    }

    private static void Require(ControllerReply reply)
    {
        if (reply.Res != ControllerReply.Success) throw new InvalidOperationException(reply.ErrString);
    }
}
