using System.Text.Json;
using System.Text.Json.Nodes;
using Mtt.Core.Transport;
using Mtt.Tests.Support;

namespace Mtt.Tests.Interop;

/// <summary>
/// A returning browser or Node client resumes its TLS 1.3 session (a shorter handshake for it and for the server) on
/// either engine, while each full handshake sends one session ticket, not OpenSSL's default two: mtt-client never
/// resumes, so every ticket is work done for nothing on its path. (SslStream's first handshake on a certificate still
/// sends two: the count is set on its context once a handshake has made it.)
/// </summary>
public sealed class NodeTlsResumptionTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Theory]
    [MemberData(nameof(TlsEngines.Both), MemberType = typeof(TlsEngines))]
    public async Task ReturningNodeClient_ResumesItsTls13Session_AndEachFullHandshakeSendsOneTicket(TlsEngine engine)
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.StartWithUser("/node", backend.Address, tls: true, engine: engine);

        var run = await NodeWsClient.RunScriptAsync("resume-client.mjs", new JsonObject { ["port"] = server.Port, ["path"] = "/node" }).WaitAsync(Bound);

        Assert.True(run.Ok, run.Output);
        var first = run.Result.GetProperty("first");
        Assert.Equal("TLSv1.3", first.GetProperty("version").GetString());
        Assert.False(first.GetProperty("reused").GetBoolean(), run.Output);
        Assert.Equal("101", first.GetProperty("status").GetString());
        if (engine == TlsEngine.OpenSsl) Assert.Equal(1, first.GetProperty("tickets").GetInt32());

        var again = run.Result.GetProperty("again");
        Assert.False(again.GetProperty("reused").GetBoolean(), run.Output);
        Assert.Equal(1, again.GetProperty("tickets").GetInt32());

        var resumed = run.Result.GetProperty("resumed");
        Assert.Equal(JsonValueKind.Object, resumed.ValueKind);
        Assert.True(resumed.GetProperty("reused").GetBoolean(), $"the server did not resume the session: {run.Output}");
        Assert.Equal("101", resumed.GetProperty("status").GetString());
    }
}
