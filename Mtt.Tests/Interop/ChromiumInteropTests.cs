using Mtt.Core.Transport;
using System.Text.Json;
using Mtt.Tests.Support;
using Xunit.Abstractions;

namespace Mtt.Tests.Interop;

/// <summary>
/// Headless Chromium's own WebSocket (Debian's chromium package) as an independent client: the page
/// (Mtt.Tests/Interop/browser/echo-page.html) runs the same exchange as the Node client and posts
/// its outcome back to the test's page host.
/// </summary>
public sealed class ChromiumInteropTests
{
    // Chromium takes a few seconds to start on a busy 2-core machine; the page itself needs well under one.
    private static readonly TimeSpan ResultBound = TimeSpan.FromSeconds(60);
    private readonly ITestOutputHelper _output;

    public ChromiumInteropTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData(false, TlsEngine.SslStream)]
    [InlineData(true, TlsEngine.SslStream)]
    [InlineData(true, TlsEngine.OpenSsl)]
    public async Task ChromiumWebSocket_EchoesEveryLengthFormByteExact_RefusesTextWith1003_AndGetsNoSocketForAMissingPath(bool tls, TlsEngine engine)
    {
        await using var backend = new EchoBackend();
        await using var server = TestServer.StartWithUser("/chromium", backend.Address, tls: tls, engine: engine);
        await using var host = new PageHost(new Dictionary<string, string>
        {
            ["/echo-page.html"] = Path.Combine(InteropAssets.BrowserDirectory, "echo-page.html"),
            ["/echo-session.mjs"] = Path.Combine(InteropAssets.NodeDirectory, "echo-session.mjs"),
        });
        uint seed = EchoPlan.NewSeed();
        var query = $"?url={Uri.EscapeDataString(server.UriFor("/chromium").ToString())}" +
                    $"&missing={Uri.EscapeDataString(server.UriFor("/nobody").ToString())}" +
                    $"&seed={seed}&sizes={string.Join(',', EchoPlan.Sizes)}&protocol=smux_off";

        string json;
        await using (var chromium = HeadlessChromium.Open(host.UriFor("/echo-page.html" + query)))
        {
            try
            {
                json = await host.Result.WaitAsync(ResultBound);
            }
            catch (TimeoutException)
            {
                Assert.Fail($"no result from Chromium within {ResultBound.TotalSeconds} s; requests: {host.Requests}; log: {chromium.Log}");
                throw;
            }
            _output.WriteLine(json);
        }

        using var document = JsonDocument.Parse(json);
        var result = document.RootElement;
        Assert.True(result.GetProperty("ok").GetBoolean(), $"seed {seed}: {json}");
        Assert.Equal(EchoPlan.Total, result.GetProperty("bytes").GetInt32());
        Assert.Equal(SeededBytes.Sha256Hex(seed, EchoPlan.Total), result.GetProperty("sha256").GetString());
        // Chromium offers permessage-deflate; the server negotiates no extension and Chromium goes on without.
        Assert.Equal("", result.GetProperty("extensions").GetString());
        Assert.Equal("smux_off", result.GetProperty("protocol").GetString());
        Assert.Equal(1000, result.GetProperty("close").GetProperty("code").GetInt32());
        Assert.True(result.GetProperty("close").GetProperty("wasClean").GetBoolean(), json);
        Assert.Equal(1003, result.GetProperty("textClose").GetProperty("code").GetInt32());
        // The text frame was well formed: the server completes the close handshake before it closes TCP.
        Assert.True(result.GetProperty("textClose").GetProperty("wasClean").GetBoolean(), json);
        // A browser learns nothing of a refused upgrade but "abnormal closure" (RFC 6455 section 7.4.1).
        Assert.False(result.GetProperty("missing").GetProperty("opened").GetBoolean(), json);
        Assert.Equal(1006, result.GetProperty("missing").GetProperty("code").GetInt32());
        Assert.Equal(2, backend.Accepted); // the echo and the text tunnels; the missing path dialled nothing
    }
}
