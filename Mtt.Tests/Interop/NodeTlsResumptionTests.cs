using System.Text.Json;
using System.Text.Json.Nodes;
using Mtt.Core.Transport;
using Mtt.Tests.Support;

namespace Mtt.Tests.Interop;

/// <summary>
/// A returning browser or Node client resumes its TLS 1.3 session (a shorter handshake for it and for the server) on
/// either engine, while the OpenSSL engine sends one ticket per full handshake, not OpenSSL's default two: mtt-client
/// never resumes, so every ticket is work done for nothing on its path.
/// </summary>
public sealed class NodeTlsResumptionTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Theory]
    [MemberData(nameof(TlsEngines.Both), MemberType = typeof(TlsEngines))]
    public async Task ReturningNodeClient_ResumesItsTls13Session_AndIsUpgradedAgain(TlsEngine engine)
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.StartWithUser("/node", backend.Address, tls: true, engine: engine);

        var run = await NodeWsClient.RunScriptAsync("resume-client.mjs", new JsonObject { ["port"] = server.Port, ["path"] = "/node" }).WaitAsync(Bound);

        Assert.True(run.Ok, run.Output);
        var first = run.Result.GetProperty("first");
        Assert.Equal("TLSv1.3", first.GetProperty("version").GetString());
        Assert.False(first.GetProperty("reused").GetBoolean(), run.Output);
        Assert.Equal("101", first.GetProperty("status").GetString());
        int tickets = first.GetProperty("tickets").GetInt32();
        if (engine == TlsEngine.OpenSsl) Assert.Equal(1, tickets);
        else Assert.True(tickets >= 1, run.Output);

        var second = run.Result.GetProperty("second");
        Assert.Equal(JsonValueKind.Object, second.ValueKind);
        Assert.True(second.GetProperty("reused").GetBoolean(), $"the server did not resume the session: {run.Output}");
        Assert.Equal("101", second.GetProperty("status").GetString());
    }
}
