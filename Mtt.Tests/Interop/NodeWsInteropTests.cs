using Mtt.Core.Transport;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Mtt.Tests.Support;
using Xunit.Abstractions;

namespace Mtt.Tests.Interop;

/// <summary>
/// Node's ws package (npm, pinned in Mtt.Tests/Interop/node/package-lock.json) as an independent client:
/// a WebSocket implementation that shares no code with the server or its tests.
/// </summary>
public sealed class NodeWsInteropTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly ITestOutputHelper _output;

    public NodeWsInteropTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData(false, false, TlsEngine.SslStream)]
    [InlineData(true, false, TlsEngine.SslStream)]
    [InlineData(true, true, TlsEngine.SslStream)]
    [InlineData(true, false, TlsEngine.OpenSsl)]
    [InlineData(true, true, TlsEngine.OpenSsl)]
    public async Task BinaryMessagesOfEveryLengthForm_EchoByteExact_AndTheClientsCloseIsAnswered(bool tls, bool verifyCertificate, TlsEngine engine)
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.StartWithUser("/node", backend.Address, tls: tls, engine: engine);
        using var directory = new TemporaryDirectory();
        uint seed = EchoPlan.NewSeed();
        var options = new JsonObject { ["mode"] = "echo", ["url"] = server.UriFor("/node").ToString(), ["seed"] = seed, ["sizes"] = Sizes() };
        if (tls && verifyCertificate) options["ca"] = directory.Write("server.pem", server.Certificate!.ExportCertificatePem());
        else if (tls) options["insecure"] = true;

        var run = await RunAsync(options);

        Assert.True(run.Ok, $"seed {seed}: {run.Output}");
        Assert.Equal(EchoPlan.Total, run.Result.GetProperty("bytes").GetInt32());
        Assert.Equal(SeededBytes.Sha256Hex(seed, EchoPlan.Total), run.Text("sha256"));
        // ws offers permessage-deflate by default; the server negotiates no extension and ws goes on without.
        Assert.Equal("", run.Text("extensions"));
        Assert.Equal("", run.Text("protocol"));
        Assert.Equal(1000, run.CloseCode);
        Assert.True(run.Result.GetProperty("close").GetProperty("wasClean").GetBoolean(), run.Output);
        await backend.FirstEndOfInput.WaitAsync(Bound);
    }

    [Fact]
    public async Task SmuxOffOffered_IsEchoed_AndTheTunnelIsPlain()
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.StartWithUser("/node", backend.Address, mux: true);
        uint seed = EchoPlan.NewSeed();

        var run = await RunAsync(new JsonObject
        {
            ["mode"] = "echo", ["url"] = server.UriFor("/node").ToString(), ["protocol"] = "smux_off", ["seed"] = seed, ["sizes"] = Sizes(),
        });

        Assert.True(run.Ok, $"seed {seed}: {run.Output}");
        Assert.Equal("smux_off", run.Text("protocol"));
        Assert.Equal(SeededBytes.Sha256Hex(seed, EchoPlan.Total), run.Text("sha256"));
        Assert.Equal(1000, run.CloseCode);
    }

    [Fact]
    public async Task TextMessage_IsClosedWith1003()
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.StartWithUser("/node", backend.Address);

        var run = await RunAsync(new JsonObject { ["mode"] = "text", ["url"] = server.UriFor("/node").ToString() });

        Assert.True(run.Ok, run.Output);
        Assert.Equal(1003, run.CloseCode);
        // The frame was well formed: the server waits for ws's answering close before it closes TCP.
        Assert.True(run.Result.GetProperty("close").GetProperty("wasClean").GetBoolean(), run.Output);
    }

    [Fact]
    public async Task BackendEnding_ClientGetsItsLastBytes_ThenClose1000()
    {
        await using var backend = new EchoBackend(echo: false);
        await using var server = TestServer.StartWithUser("/node", backend.Address);

        var running = RunAsync(new JsonObject { ["mode"] = "until-close", ["url"] = server.UriFor("/node").ToString() });
        var socket = await backend.FirstConnection.WaitAsync(Bound);
        await socket.SendAsync("last words"u8.ToArray());
        socket.Shutdown(SocketShutdown.Send);
        var run = await running;

        Assert.True(run.Ok, run.Output);
        Assert.Equal("last words", run.Text("text"));
        Assert.Equal(1000, run.CloseCode);
        Assert.True(run.Result.GetProperty("close").GetProperty("wasClean").GetBoolean(), run.Output);
    }

    [Fact]
    public async Task PathWithNoUser_IsRefusedWith404_AndNoBackendIsDialled()
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.StartWithUser("/node", backend.Address);

        var run = await RunAsync(new JsonObject { ["mode"] = "refused", ["url"] = server.UriFor("/nobody").ToString() });

        Assert.True(run.Ok, run.Output);
        Assert.Equal("Unexpected server response: 404", run.Text("error"));
        Assert.Equal(0, backend.Accepted);
    }

    private static JsonArray Sizes() => new(EchoPlan.Sizes.Select(size => JsonValue.Create(size)).ToArray<JsonNode?>());

    private async Task<NodeWsRun> RunAsync(JsonObject options)
    {
        var run = await NodeWsClient.RunAsync(options).WaitAsync(Bound);
        _output.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, $"node failed ({run.ExitCode}): {run.Output}");
        return run;
    }
}
