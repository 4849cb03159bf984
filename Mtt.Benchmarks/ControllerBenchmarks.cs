using System.Text;
using BenchmarkDotNet.Attributes;
using Mtt.Core.Control;
using Mtt.Core.Routing;

namespace Mtt.Benchmarks;

/// <summary>
/// The controller's bulk load: 40,000 users in one ~1.8 MB request applied to an empty store (goal: well
/// under 100 ms), and what a route lookup costs on a 1-user table against the 40,000-user table it builds.
/// </summary>
[MemoryDiagnoser]
public class ControllerBenchmarks
{
    private const int Users = 40_000;

    private byte[] _body = [];
    private RouteTable _oneUser = RouteTable.Empty;
    private RouteTable _manyUsers = RouteTable.Empty;

    // A path from the middle of the big table, and one that is in neither.
    private static readonly byte[] PresentPath = "/path_20000"u8.ToArray();
    private static readonly byte[] MissingPath = "/nobody_here"u8.ToArray();

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

        var many = new RouteStore();
        Require(CommandProcessor.Execute(_body, many));
        _manyUsers = many.Current;

        var one = new RouteStore();
        Require(CommandProcessor.Execute("""{"opt":1,"args_bunch":[{"path":"/path_20000","dst":"127.0.0.1:30000"}]}"""u8, one));
        _oneUser = one.Current;
    }

    [Benchmark]
    public ControllerReply Apply40000Users() => CommandProcessor.Execute(_body, new RouteStore());

    [Benchmark]
    public bool Lookup_1UserTable() => _oneUser.TryGetUtf8(PresentPath, out _);

    [Benchmark]
    public bool Lookup_40000UserTable() => _manyUsers.TryGetUtf8(PresentPath, out _);

    [Benchmark]
    public bool LookupMiss_40000UserTable() => _manyUsers.TryGetUtf8(MissingPath, out _);

    private static void Require(ControllerReply reply)
    {
        if (reply.Res != ControllerReply.Success) throw new InvalidOperationException(reply.ErrString);
    }
}
